//! The workspace's root package: integration tests (`tests/`) and examples (`examples/`)
//! of `fault-runtime`. It is never published and exports nothing.
//!
//! It has this library target only so that trybuild's test projects see the package's
//! `enabled` feature, and compile the ui cases in the feature state the suite runs in.
