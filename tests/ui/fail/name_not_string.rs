use fault_runtime::fault_point;

const NAME: &str = "payments.charge";

#[fault_point(name = NAME)]
fn charge() {}

fn main() {
    let _ = NAME;
    charge();
}
