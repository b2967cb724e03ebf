//! AutonomOS Control Center server: the `aos` binary's HTTP API, storage,
//! authentication and operator commands.

pub mod admin;
pub mod auth;
pub mod classify;
pub mod classify_cli;
pub mod cli;
pub mod commands;
pub mod demo;
pub mod domain;
pub mod error;
pub mod eval;
pub mod gateway;
pub mod http;
pub mod ingest_cli;
pub mod knowledge;
pub mod platform;
pub mod settings;
pub mod slack;
pub mod state;
pub mod store;
pub mod tools_api;
