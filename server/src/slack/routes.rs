//! The Slack routes: what Slack posts (signed, with a body limit of their
//! own) and the admin API.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::post;

use super::verify::BODY_LIMIT;
use super::{admin, events, interactions, slash};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    let from_slack = Router::new()
        .route("/slack/events", post(events::receive))
        .route("/slack/commands", post(slash::receive))
        .route("/slack/interactions", post(interactions::receive))
        .layer(DefaultBodyLimit::max(BODY_LIMIT));
    from_slack.merge(admin::router())
}
