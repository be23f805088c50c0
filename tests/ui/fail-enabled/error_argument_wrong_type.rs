use fault_runtime::{Fault, fault_point};

#[derive(Debug)]
enum PaymentError {
    Unavailable(String),
}

#[fault_point(name = "payments.charge", error = |fault: Fault| fault.to_string())]
fn charge(cents: u64) -> Result<u64, PaymentError> {
    if cents == 0 {
        Err(PaymentError::Unavailable("no amount".to_owned()))
    } else {
        Ok(cents)
    }
}

fn main() {
    let _ = charge(100);
}
