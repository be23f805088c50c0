use fault_runtime::fault_point;

#[fault_point(name = "cache.get", error = |fault| fault.to_string())]
fn get(key: u32) -> Option<u32> {
    Some(key)
}

fn main() {
    let _ = get(1);
}
