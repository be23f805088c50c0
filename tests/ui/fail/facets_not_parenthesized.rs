use fault_runtime::fault_point;

#[fault_point(facets = [customer])]
fn charge(customer: &str) {
    let _ = customer;
}

fn main() {
    charge("c-42");
}
