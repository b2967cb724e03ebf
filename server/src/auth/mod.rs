//! Authentication: passwords, tokens, the `Principal` extractor and the
//! `/api/v1/auth` routes.

pub mod password;
pub mod principal;
pub mod routes;
pub mod session;
pub mod tokens;

pub use principal::{Principal, Subject};
