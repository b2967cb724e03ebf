//! `aos eval`: quality measurements against public data sets.

pub mod bench;
pub mod bench_gateway;
pub mod metrics;
pub mod retrieval;
