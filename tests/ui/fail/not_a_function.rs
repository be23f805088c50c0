use fault_runtime::fault_point;

#[fault_point(name = "payments.config")]
struct Config {
    retries: u32,
}

fn main() {
    let config = Config { retries: 3 };
    assert_eq!(config.retries, 3);
}
