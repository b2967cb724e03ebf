//! `aos eval`: quality measurements against public data sets.

pub mod metrics;
pub mod retrieval;
