//! Tests of the approvals module.
