use fault_runtime::fault_point;

#[fault_point(name = "")]
fn charge() {}

fn main() {
    charge();
}
