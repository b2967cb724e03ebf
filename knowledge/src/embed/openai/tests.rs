//! Tests of [`OpenAiEmbedder`] against a local server speaking the real
//! `/v1/embeddings` wire format.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::*;

const API_KEY: &str = "sk-test";
const DIMENSION: usize = 4;

/// What the fake service saw and how it should misbehave, keyed by the
/// requested model name.
#[derive(Default)]
struct Service {
    /// Number of inputs in each request received, in order.
    batches: Mutex<Vec<usize>>,
}

/// A fake OpenAI server on 127.0.0.1:0, stopped when dropped.
struct FakeOpenAi {
    addr: SocketAddr,
    service: Arc<Service>,
    _shutdown: oneshot::Sender<()>,
}

impl FakeOpenAi {
    async fn start() -> Self {
        let service = Arc::new(Service::default());
        let app = Router::new()
            .route("/v1/embeddings", post(embeddings))
            .with_state(Arc::clone(&service));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("local_addr: {e}"));
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Self {
            addr,
            service,
            _shutdown: shutdown,
        }
    }

    fn embedder(&self, model: &str, options: OpenAiOptions) -> OpenAiEmbedder {
        OpenAiEmbedder::with_options(
            format!("http://{}/v1/", self.addr),
            Some(API_KEY.to_owned()),
            model,
            DIMENSION,
            options,
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn batches(&self) -> Vec<usize> {
        self.service
            .batches
            .lock()
            .map(|b| b.clone())
            .unwrap_or_default()
    }
}

fn no_retries() -> OpenAiOptions {
    OpenAiOptions {
        max_retries: 0,
        ..OpenAiOptions::default()
    }
}

/// `text-N` is embedded as the unnormalised vector [N + 1, 2, 0, 0], so tests
/// can tell which input each output belongs to.
fn vector_for(text: &str, dimension: usize) -> Vec<f32> {
    let n: f32 = text
        .strip_prefix("text-")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0);
    let mut v = vec![0.0; dimension];
    v[0] = n + 1.0;
    v[1] = 2.0;
    v
}

fn api_error(status: StatusCode, message: &str, kind: &str, code: &str) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": code}});
    (status, Json(body)).into_response()
}

async fn embeddings(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let authorised = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {API_KEY}"));
    if !authorised {
        return api_error(
            StatusCode::UNAUTHORIZED,
            "Incorrect API key provided",
            "invalid_request_error",
            "invalid_api_key",
        );
    }
    let model = body["model"].as_str().unwrap_or_default().to_owned();
    let inputs: Vec<String> = body["input"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let attempt = {
        let mut batches = service.batches.lock().unwrap_or_else(|e| e.into_inner());
        batches.push(inputs.len());
        batches.len()
    };

    let dimension = match model.as_str() {
        "rate-limited" => {
            return api_error(
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit reached for requests",
                "requests",
                "rate_limit_exceeded",
            );
        }
        "rate-limited-once" if attempt == 1 => {
            return api_error(
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit reached for requests",
                "requests",
                "rate_limit_exceeded",
            );
        }
        "out-of-quota" => {
            return api_error(
                StatusCode::TOO_MANY_REQUESTS,
                "You exceeded your current quota",
                "insufficient_quota",
                "insufficient_quota",
            );
        }
        "broken" => {
            return (StatusCode::BAD_GATEWAY, "upstream connect error").into_response();
        }
        "no-such-model" => {
            return api_error(
                StatusCode::NOT_FOUND,
                "The model `no-such-model` does not exist",
                "invalid_request_error",
                "model_not_found",
            );
        }
        "slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            DIMENSION
        }
        "wrong-dimension" => DIMENSION + 1,
        _ => DIMENSION,
    };

    // Real servers may return items in any order; `index` is what counts.
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .rev()
        .map(|(i, text)| {
            json!({"object": "embedding", "index": i, "embedding": vector_for(text, dimension)})
        })
        .collect();
    let tokens = inputs.len() * 3;
    Json(json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }))
    .into_response()
}

fn texts(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("text-{i}")).collect()
}

#[tokio::test]
async fn returns_normalised_vectors_in_input_order_across_batches() {
    let server = FakeOpenAi::start().await;
    let embedder = server.embedder("text-embedding-3-small", no_retries());
    assert_eq!(embedder.model_id(), "openai/text-embedding-3-small");
    assert_eq!(embedder.dimension(), DIMENSION);

    let inputs = texts(600);
    let vectors = embedder
        .embed(&inputs)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(server.batches(), vec![256, 256, 88]);
    assert_eq!(vectors.len(), inputs.len());
    for (text, vector) in inputs.iter().zip(&vectors) {
        let mut expected = vector_for(text, DIMENSION);
        l2_normalise(&mut expected);
        assert_eq!(vector.len(), DIMENSION);
        let diff = vector
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(diff < 1e-6, "{text}: got {vector:?}, expected {expected:?}");
    }
}

#[tokio::test]
async fn empty_input_sends_no_request() {
    let server = FakeOpenAi::start().await;
    let embedder = server.embedder("text-embedding-3-small", no_retries());
    let vectors = embedder.embed(&[]).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(vectors.is_empty());
    assert!(server.batches().is_empty());
}

#[tokio::test]
async fn wrong_dimension_is_permanent_and_names_both_sizes() {
    let server = FakeOpenAi::start().await;
    let embedder = server.embedder("wrong-dimension", no_retries());
    match embedder.embed(&texts(2)).await {
        Err(EmbedError::Permanent(msg)) => {
            assert!(msg.contains('5') && msg.contains('4'), "{msg}");
        }
        other => panic!("expected Permanent, got {other:?}"),
    }
}

#[tokio::test]
async fn rate_limit_is_transient() {
    let server = FakeOpenAi::start().await;
    let embedder = server.embedder("rate-limited", no_retries());
    match embedder.embed(&texts(1)).await {
        Err(EmbedError::Transient(msg)) => assert!(msg.contains("429"), "{msg}"),
        other => panic!("expected Transient, got {other:?}"),
    }
    assert_eq!(server.batches().len(), 1, "retries were off");
}

#[tokio::test]
async fn rate_limit_is_retried_when_retries_are_on() {
    let server = FakeOpenAi::start().await;
    let options = OpenAiOptions {
        max_retries: 1,
        ..OpenAiOptions::default()
    };
    let embedder = server.embedder("rate-limited-once", options);
    let vectors = embedder
        .embed(&texts(3))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(vectors.len(), 3);
    assert_eq!(server.batches(), vec![3, 3]);
}

#[tokio::test]
async fn server_errors_and_timeouts_are_transient() {
    let server = FakeOpenAi::start().await;
    let broken = server.embedder("broken", no_retries());
    assert!(matches!(
        broken.embed(&texts(1)).await,
        Err(EmbedError::Transient(_))
    ));

    let options = OpenAiOptions {
        timeout: Duration::from_millis(200),
        ..no_retries()
    };
    let slow = server.embedder("slow", options);
    let started = std::time::Instant::now();
    let result = slow.embed(&texts(1)).await;
    assert!(
        matches!(result, Err(EmbedError::Transient(_))),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn unreachable_server_is_transient() {
    // A port that was free a moment ago: connecting is refused.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("local_addr: {e}"));
    drop(listener);
    let embedder = OpenAiEmbedder::with_options(
        format!("http://{addr}/v1"),
        None,
        "text-embedding-3-small",
        DIMENSION,
        no_retries(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    match embedder.embed(&texts(1)).await {
        Err(EmbedError::Transient(msg)) => assert!(msg.contains("onnect"), "{msg}"),
        other => panic!("expected Transient, got {other:?}"),
    }
}

#[tokio::test]
async fn client_errors_are_permanent() {
    let server = FakeOpenAi::start().await;
    for model in ["no-such-model", "out-of-quota"] {
        let embedder = server.embedder(model, no_retries());
        match embedder.embed(&texts(1)).await {
            Err(EmbedError::Permanent(_)) => {}
            other => panic!("{model}: expected Permanent, got {other:?}"),
        }
    }

    let unauthorised = OpenAiEmbedder::with_options(
        format!("http://{}/v1", server.addr),
        Some("sk-wrong".to_owned()),
        "text-embedding-3-small",
        DIMENSION,
        no_retries(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    match unauthorised.embed(&texts(1)).await {
        Err(EmbedError::Permanent(msg)) => assert!(msg.contains("401"), "{msg}"),
        other => panic!("expected Permanent, got {other:?}"),
    }
}
