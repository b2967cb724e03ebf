//! Tenant administration: users and API keys of the caller's own tenant.
//! Every route needs the `admin` role; ids of other tenants are simply not found.

pub mod api_keys;
pub mod users;

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(users::router())
        .merge(api_keys::router())
}
