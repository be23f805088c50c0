//! What both benchmark binaries share: the workload every measured function runs, and the
//! table of ratios printed after criterion has measured.
//!
//! Timings on a shared machine drift from one run to the next, so no figure stands alone:
//! every case is reported as a ratio to the plain function measured in the same run.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use fault_runtime::Fault;

/// The error every measured function returns.
#[derive(Debug)]
pub enum PriceError {
    /// The workload's own error, which the benchmarks never trigger.
    Free,
    /// An injected fault; the benchmarks never let one through either.
    Injected(String),
}

impl From<Fault> for PriceError {
    fn from(fault: Fault) -> Self {
        PriceError::Injected(fault.to_string())
    }
}

/// The body every measured function has: a little arithmetic on its arguments, small enough
/// that the cost of a fault point's check is not lost in it.
#[inline(always)]
pub fn price(customer: &str, cents: u64) -> Result<u64, PriceError> {
    if cents == 0 {
        return Err(PriceError::Free);
    }
    let discount = (customer.len() as u64).wrapping_mul(7) % 13;
    Ok(cents.wrapping_mul(3).wrapping_sub(discount))
}

/// The customer of every measured call.
pub const CUSTOMER: &str = "c-1";

/// Calls `price` once with opaque inputs, and hides its output from the optimizer.
#[inline(always)]
pub fn call(price: fn(&str, u64) -> Result<u64, PriceError>) {
    let _ = black_box(price(black_box(CUSTOMER), black_box(100)));
}

/// Checks that a call of a case about to be measured is not hit by any attack: a hit would
/// mean the benchmark measures an impact, not the cost of deciding that there is none.
pub fn assert_untouched(price: fn(&str, u64) -> Result<u64, PriceError>) {
    match price(CUSTOMER, 100) {
        Ok(_) => {}
        Err(PriceError::Injected(message)) => panic!("an attack hit a measured call: {message}"),
        Err(PriceError::Free) => panic!("the workload refused its own input"),
    }
}

/// Where criterion keeps its results: `$CRITERION_HOME`, else `criterion` in the target
/// directory that holds this executable (`target/release/deps/NAME-HASH`).
fn criterion_home() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return Some(PathBuf::from(home));
    }
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.parent()?.join("criterion"))
}

/// Criterion's median time per iteration, in nanoseconds, for a benchmark measured after
/// `since`; `None` when it was not measured in this run (filtered out, or `--test` mode).
fn median_ns(home: &Path, group: &str, id: &str, since: SystemTime) -> Option<f64> {
    let file = home.join(group).join(id).join("new").join("estimates.json");
    let written = std::fs::metadata(&file).ok()?.modified().ok()?;
    if written < since {
        return None;
    }
    let text = std::fs::read_to_string(file).ok()?;
    // `{"mean":{...},"median":{"confidence_interval":{...},"point_estimate":N,...},...}`:
    // the first `point_estimate` after `"median":` is the median's.
    let median = &text[text.find("\"median\":")?..];
    let value = &median[median.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    let end = value.find([',', '}'])?;
    value[..end].trim().parse().ok()
}

/// One line of the ratio table: a benchmark of a group, the baseline it is divided by, and
/// what it shows.
pub struct Row {
    /// The criterion group.
    pub group: &'static str,
    /// The benchmark's id in the group.
    pub id: &'static str,
    /// The id, in the same group, of the benchmark it is compared with.
    pub baseline: &'static str,
    /// What the case is.
    pub label: &'static str,
    /// A benchmark of the group whose time is taken off both sides before dividing, so
    /// that the ratio compares what two mechanisms add to the same call.
    pub net_of: Option<&'static str>,
}

/// Prints, for each row measured in this run, criterion's median time and its ratio to its
/// baseline's median from the same run.
pub fn print_ratios(title: &str, rows: &[Row], since: SystemTime) {
    let Some(home) = criterion_home() else {
        println!("{title}: criterion's results are not found; no ratios");
        return;
    };
    println!("\n{title} (criterion's median time per call; ratio to the baseline of the same run)");
    println!("{:<56} {:>8} {:>8}  baseline", "case", "ns/call", "ratio");
    for row in rows {
        let median = |id: &str| median_ns(&home, row.group, id, since);
        let Some(time) = median(row.id) else {
            continue;
        };
        let net = row.net_of.map(|id| (id, median(id)));
        let (ratio, against) = match (median(row.baseline), net) {
            (Some(base), None) => (format!("{:.2}x", time / base), row.baseline.to_owned()),
            (Some(base), Some((id, Some(net)))) => (
                format!("{:.2}x", (time - net) / (base - net)),
                format!("{}, both less {id}", row.baseline),
            ),
            _ => ("-".to_owned(), row.baseline.to_owned()),
        };
        println!("{:<56} {time:>8.2} {ratio:>8}  {against}", row.label);
    }
}
