//! The web control center: the built `chat-ui/dist` served at `/`, with every
//! unknown page path answered by `index.html` (the UI routes on the client).
//! API and WebSocket paths that match no route stay JSON 404s.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use crate::error::error_response;
use crate::state::AppState;

pub async fn serve(State(state): State<AppState>, request: Request<Body>) -> Response {
    let path = request.uri().path();
    if path.starts_with("/api/") || path.starts_with("/ws/") || path.starts_with("/v1/") {
        return error_response(StatusCode::NOT_FOUND, "not_found", "no such route".into());
    }
    let dir = &state.settings.ui_dir;
    let index = dir.join("index.html");
    if !index.is_file() {
        return error_response(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such route (the web UI is not built: `make run` builds it)".into(),
        );
    }
    match ServeDir::new(dir)
        .fallback(ServeFile::new(index))
        .oneshot(request)
        .await
    {
        Ok(response) => response.into_response(),
        Err(never) => match never {},
    }
}
