use fault_runtime::fault_point;

#[fault_point(nmae = "payments.charge")]
fn charge() {}

fn main() {
    charge();
}
