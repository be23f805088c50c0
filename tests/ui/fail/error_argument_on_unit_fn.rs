use fault_runtime::fault_point;

#[fault_point(name = "audit.record", error = |fault| fault.to_string())]
fn record(event: &str) {
    println!("{event}");
}

fn main() {
    record("charged");
}
