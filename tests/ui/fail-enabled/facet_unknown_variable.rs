use fault_runtime::fault_point;

#[fault_point(name = "payments.charge", facets(customer = request.customer_id))]
fn charge(customer_id: &str, cents: u64) -> Result<u64, String> {
    let _ = customer_id;
    Ok(cents)
}

fn main() {
    let _ = charge("c-42", 100);
}
