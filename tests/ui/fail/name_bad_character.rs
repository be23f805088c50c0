use fault_runtime::fault_point;

#[fault_point(name = "payments/charge")]
fn charge() {}

fn main() {
    charge();
}
