use fault_runtime::fault_point;

#[fault_point(facets(customer, country, customer = customer.len()))]
fn charge(customer: &str, country: &str) {
    let _ = (customer, country);
}

fn main() {
    charge("c-42", "NL");
}
