use fault_runtime::fault_point;

#[fault_point(name = "payments.charge", facets(customer), name = "payments.refund")]
fn charge(customer: &str) {
    let _ = customer;
}

fn main() {
    charge("c-42");
}
