use fault_runtime::fault_point;

#[derive(Debug)]
enum PaymentError {
    Declined,
}

#[fault_point(name = "payments.charge")]
fn charge(cents: u64) -> Result<u64, PaymentError> {
    if cents == 0 {
        Err(PaymentError::Declined)
    } else {
        Ok(cents)
    }
}

fn main() {
    let _ = charge(100);
}
