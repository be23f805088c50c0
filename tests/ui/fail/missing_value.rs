use fault_runtime::fault_point;

#[fault_point(name, facets(customer))]
fn charge(customer: &str) {
    let _ = customer;
}

fn main() {
    charge("c-42");
}
