//! `/api/v1/knowledge`: upload (multipart or JSON), list, read, delete and search.

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::routing::{get, post};
use axum::{Json, Router};
use knowledge::ingest::DocumentMeta;
use knowledge::parse::Format;
use knowledge::scope::Scope;
use knowledge::search::{FusionWeights, SearchMode, SearchQuery};
use knowledge::store::{self, Document};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{IngestOutcome, IngestStatus, SearchResults};
use crate::admin::users::Paging;
use crate::auth::Principal;
use crate::domain::Role;
use crate::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

pub fn router(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/knowledge/documents",
            get(list)
                .post(upload)
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/api/v1/knowledge/documents/{id}", get(read).delete(remove))
        .route("/api/v1/knowledge/search", post(search))
}

/// A document given as text in JSON.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextDocument {
    pub title: String,
    pub text: String,
    pub uri: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub personas: Vec<String>,
    /// `markdown` (default), `text` or `html`.
    pub format: Option<String>,
}

#[derive(Serialize)]
pub struct UploadResponse {
    pub status: IngestStatus,
    pub document: Document,
}

const MAX_TAGS: usize = 32;

fn parse_meta(
    title: Option<String>,
    uri: Option<String>,
    tags: Vec<String>,
    personas: Vec<String>,
) -> Result<DocumentMeta, ApiError> {
    let has_control = |v: &str| v.chars().any(char::is_control);
    if title.as_deref().is_some_and(has_control)
        || uri.as_deref().is_some_and(has_control)
        || tags.iter().any(|t| has_control(t))
        || personas.iter().any(|p| has_control(p))
    {
        return Err(ApiError::Validation(
            "title, uri, tags and personas must not contain control characters".into(),
        ));
    }
    if tags.len() > MAX_TAGS || tags.iter().any(|t| t.chars().count() > 64) {
        return Err(ApiError::Validation(format!(
            "at most {MAX_TAGS} tags of at most 64 characters"
        )));
    }
    if uri.as_ref().is_some_and(|u| u.is_empty() || u.len() > 2000) {
        return Err(ApiError::Validation(
            "uri must have 1 to 2000 characters".into(),
        ));
    }
    if title.as_ref().is_some_and(|t| t.chars().count() > 500) {
        return Err(ApiError::Validation(
            "title is longer than 500 characters".into(),
        ));
    }
    let scope = Scope::from_names(&personas).map_err(ApiError::Validation)?;
    Ok(DocumentMeta {
        title,
        source: "upload".into(),
        uri,
        tags,
        scope,
    })
}

fn split_list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Upload a document: `multipart/form-data` with a `file` field (and optional
/// `title`, `uri`, `tags`, `personas`, comma-separated) or JSON `{title, text, …}`.
pub async fn upload(
    State(state): State<AppState>,
    principal: Principal,
    request: Request,
) -> Result<(StatusCode, Json<UploadResponse>), ApiError> {
    principal.require(Role::Analyst)?;
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let (meta, format, bytes) = if content_type.starts_with("multipart/form-data") {
        read_multipart(&state, request).await?
    } else if content_type.starts_with("application/json") {
        let ApiJson(body) = ApiJson::<TextDocument>::from_request(request, &state).await?;
        let format = match body.format.as_deref().unwrap_or("markdown") {
            "markdown" => Format::Markdown,
            "text" => Format::Text,
            "html" => Format::Html,
            other => {
                return Err(ApiError::Validation(format!(
                    "format `{other}` is not markdown, text or html"
                )));
            }
        };
        if body.title.trim().is_empty() {
            return Err(ApiError::Validation("title must not be empty".into()));
        }
        let meta = parse_meta(Some(body.title), body.uri, body.tags, body.personas)?;
        (meta, format, body.text.into_bytes())
    } else {
        return Err(ApiError::UnsupportedMediaType(
            "upload a file as multipart/form-data or text as application/json".into(),
        ));
    };
    let IngestOutcome { status, document } = state
        .knowledge
        .ingest(
            &state.db,
            principal.tenant,
            principal.actor(),
            meta,
            format,
            bytes,
        )
        .await?;
    let code = match status {
        IngestStatus::Created => StatusCode::CREATED,
        IngestStatus::Replaced | IngestStatus::Unchanged => StatusCode::OK,
    };
    Ok((code, Json(UploadResponse { status, document })))
}

async fn read_multipart(
    state: &AppState,
    request: Request,
) -> Result<(DocumentMeta, Format, Vec<u8>), ApiError> {
    let limit = state.settings.upload_limit_bytes;
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let mut file: Option<(Option<String>, Option<String>, Vec<u8>)> = None;
    let (mut title, mut uri, mut tags, mut personas) = (None, None, Vec::new(), Vec::new());
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            Err(e) => return Err(ApiError::BadRequest(e.body_text())),
        };
        let name = field.name().unwrap_or("").to_owned();
        if name == "file" {
            let file_name = field.file_name().map(str::to_owned);
            let mime = field.content_type().map(str::to_owned);
            let bytes = field.bytes().await.map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge { limit }
                } else {
                    ApiError::BadRequest(e.body_text())
                }
            })?;
            file = Some((file_name, mime, bytes.to_vec()));
            continue;
        }
        let value = field
            .text()
            .await
            .map_err(|e| ApiError::BadRequest(e.body_text()))?;
        match name.as_str() {
            "title" => title = Some(value),
            "uri" => uri = Some(value),
            "tags" => tags = split_list(&value),
            "personas" => personas = split_list(&value),
            other => {
                return Err(ApiError::Validation(format!(
                    "unknown form field `{other}` (expected file, title, uri, tags, personas)"
                )));
            }
        }
    }
    let (file_name, mime, bytes) =
        file.ok_or_else(|| ApiError::Validation("the form has no `file` field".into()))?;
    let by_extension = file_name
        .as_deref()
        .and_then(|n| n.rsplit_once('.'))
        .and_then(|(_, ext)| Format::from_extension(ext));
    let format = by_extension
        .or_else(|| mime.as_deref().and_then(Format::from_mime))
        .ok_or_else(|| {
            ApiError::UnsupportedMediaType(format!(
                "cannot index {}: supported are Markdown, text, HTML, PDF, DOCX and CSV",
                file_name.as_deref().unwrap_or("this file")
            ))
        })?;
    if title.is_none() {
        title = file_name.clone();
    }
    let meta = parse_meta(title, uri, tags, personas)?;
    Ok((meta, format, bytes))
}

#[derive(Serialize)]
pub struct DocumentList {
    pub documents: Vec<Document>,
    pub total: i64,
}

/// Documents of the caller's tenant, newest first.
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(paging): ApiQuery<Paging>,
) -> Result<Json<DocumentList>, ApiError> {
    let (limit, offset) = paging.bounds()?;
    let mut tx = state.db.tenant(principal.tenant).await?;
    let (documents, total) = store::list_documents(&mut tx, limit, offset).await?;
    Ok(Json(DocumentList { documents, total }))
}

/// One document.
pub async fn read(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Document>, ApiError> {
    let mut tx = state.db.tenant(principal.tenant).await?;
    Ok(Json(store::get_document(&mut tx, id).await?))
}

/// Delete a document and its chunks.
pub async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    principal.require(Role::Analyst)?;
    state
        .knowledge
        .delete(&state.db, principal.tenant, principal.actor(), id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchRequest {
    pub query: String,
    pub limit: Option<usize>,
    #[serde(default)]
    pub mode: SearchMode,
    /// Restrict to documents scoped to these personas (default: all).
    #[serde(default)]
    pub personas: Vec<String>,
    pub document_ids: Option<Vec<Uuid>>,
    pub tags: Option<Vec<String>>,
    pub weights: Option<FusionWeights>,
}

const MAX_QUERY_CHARS: usize = 2000;

/// Hybrid search over the caller's tenant's documents.
pub async fn search(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<SearchRequest>,
) -> Result<Json<SearchResults>, ApiError> {
    let text = body.query.trim();
    if text.is_empty() {
        return Err(ApiError::Validation("query must not be empty".into()));
    }
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::Validation(format!(
            "query is longer than {MAX_QUERY_CHARS} characters"
        )));
    }
    let limit = body.limit.unwrap_or(10);
    if !(1..=50).contains(&limit) {
        return Err(ApiError::Validation(
            "limit must be between 1 and 50".into(),
        ));
    }
    if body.document_ids.as_ref().is_some_and(|d| d.len() > 100)
        || body.tags.as_ref().is_some_and(|t| t.len() > MAX_TAGS)
        || body
            .tags
            .iter()
            .flatten()
            .any(|t| t.chars().any(char::is_control))
        || text.contains('\0')
    {
        return Err(ApiError::Validation(
            "too many document ids or tags, or a tag with control characters".into(),
        ));
    }
    let weights = body.weights.unwrap_or_default();
    if !(0.0..=10.0).contains(&weights.vector) || !(0.0..=10.0).contains(&weights.lexical) {
        return Err(ApiError::Validation(
            "weights must be between 0 and 10".into(),
        ));
    }
    let mut query = SearchQuery::new(text, limit);
    query.mode = body.mode;
    query.scope = Scope::from_names(&body.personas).map_err(ApiError::Validation)?;
    query.document_ids = body.document_ids;
    query.tags = body
        .tags
        .map(|tags| tags.into_iter().map(|t| t.trim().to_lowercase()).collect());
    query.weights = weights;
    let results = state
        .knowledge
        .search(&state.db, principal.tenant, &query)
        .await?;
    Ok(Json(results))
}
