//! `/api/v1/tools` and `/api/v1/approvals`: the platform tools for API clients,
//! and the human decisions their side effects wait for.

mod approvals;
mod invoke;

use axum::Router;

use crate::auth::Principal;
use crate::state::AppState;
use personas::Persona;
use tools::{Caller, ToolContext};

pub fn router() -> Router<AppState> {
    invoke::router().merge(approvals::router())
}

/// The tool context of an API request, speaking as `persona` when given.
pub(crate) fn context(
    state: &AppState,
    principal: &Principal,
    persona: Option<Persona>,
) -> ToolContext {
    ToolContext {
        platform: state.platform.clone(),
        caller: Caller {
            tenant: principal.tenant.0,
            actor: principal.actor(),
            role: principal.role,
            persona,
        },
        conversation_id: None,
    }
}
