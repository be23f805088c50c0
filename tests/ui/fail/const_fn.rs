use fault_runtime::fault_point;

#[fault_point(name = "limits.max")]
const fn max_items() -> usize {
    64
}

const MAX: usize = max_items();

fn main() {
    assert_eq!(MAX, 64);
}
