//! `aos eval`: quality measurements against public data sets.

pub mod bench;
pub mod metrics;
pub mod retrieval;
