use fault_runtime::fault_point;

struct CustomerId(u32);

struct ChargeRequest {
    customer: CustomerId,
    cents: u64,
}

#[fault_point(name = "payments.charge", facets(customer = request.customer))]
fn charge(request: &ChargeRequest) -> Result<u64, String> {
    let _ = request.customer.0;
    Ok(request.cents)
}

fn main() {
    let request = ChargeRequest {
        customer: CustomerId(42),
        cents: 100,
    };
    let _ = charge(&request);
}
