//! Tests of the platform tools against real PostgreSQL (a fresh database per
//! test, cloned from the migrated template) and real Redis (a key prefix per
//! test). Run through `make test`, which provides both.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod agents;
mod approvals;
mod connectors;
mod discovery;
mod mapping;
mod support;
