//! `/api/v1/classify`: who is asking and what they want; and the tenant's own
//! exemplars that teach the classifier its phrasing.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use personas::{Classification, ClassifyInput, Exemplar, Intent, Persona, PreviousTurn};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::StoredExemplar;
use crate::auth::Principal;
use crate::domain::Role;
use crate::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/classify", post(classify))
        .route("/api/v1/classify/exemplars", get(list).post(add))
        .route("/api/v1/classify/exemplars/{id}", delete(remove))
}

/// The previous turn of the conversation, for follow-ups.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviousBody {
    pub persona: Persona,
    pub intent: Intent,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifyRequest {
    pub text: String,
    pub persona_hint: Option<Persona>,
    pub previous: Option<PreviousBody>,
}

/// Request bodies above this are refused; the classifier reads the first 4,000 characters.
const MAX_TEXT_BYTES: usize = 64 * 1024;

pub async fn classify(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<ClassifyRequest>,
) -> Result<Json<Classification>, ApiError> {
    if body.text.len() > MAX_TEXT_BYTES {
        return Err(ApiError::Validation(format!(
            "text is longer than {MAX_TEXT_BYTES} bytes"
        )));
    }
    let input = ClassifyInput {
        text: &body.text,
        persona_hint: body.persona_hint,
        previous: body.previous.map(|p| PreviousTurn {
            persona: p.persona,
            intent: p.intent,
        }),
        embedding: None,
    };
    let result = state
        .classify
        .classify(&state.db, principal.tenant, input)
        .await?;
    Ok(Json(result))
}

#[derive(Serialize)]
pub struct ExemplarList {
    pub exemplars: Vec<StoredExemplar>,
}

pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<ExemplarList>, ApiError> {
    principal.require(Role::Admin)?;
    let exemplars = state
        .classify
        .list_exemplars(&state.db, principal.tenant)
        .await?;
    Ok(Json(ExemplarList { exemplars }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddExemplar {
    pub persona: Persona,
    pub intent: Intent,
    pub text: String,
}

pub async fn add(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<AddExemplar>,
) -> Result<(StatusCode, Json<StoredExemplar>), ApiError> {
    principal.require(Role::Admin)?;
    let exemplar = Exemplar {
        persona: body.persona,
        intent: body.intent,
        text: body.text,
    };
    let stored = state
        .classify
        .add_exemplar(&state.db, principal.tenant, principal.actor(), exemplar)
        .await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

pub async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    principal.require(Role::Admin)?;
    state
        .classify
        .delete_exemplar(&state.db, principal.tenant, principal.actor(), id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
