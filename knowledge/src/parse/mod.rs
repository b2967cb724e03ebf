//! Document parsers (being written).
