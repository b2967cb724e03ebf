//! End-to-end tests against the real `aos` binary, PostgreSQL and Redis.

mod auth;
mod bad_input;
mod chat;
mod classify;
mod cli;
mod isolation;
mod knowledge;
mod openai_python;
mod operations;
mod slack;
mod tools;
mod ws;
