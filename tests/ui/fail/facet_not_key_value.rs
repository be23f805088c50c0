use fault_runtime::fault_point;

struct Request {
    customer_id: String,
}

#[fault_point(facets(req.customer_id))]
fn charge(req: &Request) -> usize {
    req.customer_id.len()
}

fn main() {
    charge(&Request {
        customer_id: "c-42".to_owned(),
    });
}
