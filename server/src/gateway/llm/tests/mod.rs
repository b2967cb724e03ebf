//! The client against a local server speaking OpenAI's wire protocol.

pub(crate) mod upstream;

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::json;

use super::*;
use upstream::{Reply, Upstream, refusing_base_url};

fn config(base_url: &str) -> LlmConfig {
    LlmConfig {
        api_key: Some("sk-test".into()),
        connect_timeout: Duration::from_secs(1),
        first_token_timeout: Duration::from_secs(2),
        total_timeout: Duration::from_secs(10),
        max_retries: 2,
        ..LlmConfig::new(base_url, "test-model")
    }
}

fn question() -> ChatRequest {
    ChatRequest {
        messages: vec![
            ChatMessage::system("You are terse."),
            ChatMessage::user("Hello?"),
        ],
        max_tokens: Some(64),
        ..ChatRequest::default()
    }
}

async fn collect(stream: LlmStream) -> Vec<Result<LlmDelta, LlmError>> {
    stream.collect().await
}

#[tokio::test]
async fn streams_text_usage_and_finish() {
    let upstream = Upstream::start(vec![Reply::Text(vec!["Hel", "lo", " there"])]).await;
    let llm = LlmClient::new(config(&upstream.base_url)).unwrap();
    let deltas = collect(llm.stream(&question()).await.unwrap()).await;
    assert_eq!(
        deltas,
        vec![
            Ok(LlmDelta::Text("Hel".into())),
            Ok(LlmDelta::Text("lo".into())),
            Ok(LlmDelta::Text(" there".into())),
            Ok(LlmDelta::Usage {
                prompt_tokens: 7,
                completion_tokens: 3
            }),
            Ok(LlmDelta::Finish(FinishReason::Stop)),
        ]
    );
    let requests = upstream.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["model"], "test-model");
    assert_eq!(requests[0]["stream"], true);
    assert_eq!(requests[0]["max_tokens"], 64);
    assert_eq!(
        requests[0]["messages"],
        json!([{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hello?"}])
    );
}

#[tokio::test]
async fn merges_a_tool_call_streamed_across_chunks() {
    let upstream = Upstream::start(vec![Reply::ToolCall {
        name: "search_knowledge",
        fragments: vec!["{\"que", "ry\": \"vpn ", "setup\"}"],
    }])
    .await;
    let llm = LlmClient::new(config(&upstream.base_url)).unwrap();
    let mut request = question();
    request.tools = vec![ToolDefinition {
        name: "search_knowledge".into(),
        description: "Searches the knowledge base".into(),
        parameters: json!({"type": "object", "properties": {"query": {"type": "string"}}}),
    }];
    let deltas = collect(llm.stream(&request).await.unwrap()).await;
    assert_eq!(
        deltas[0],
        Ok(LlmDelta::ToolCalls(vec![ToolCall {
            id: "call_1".into(),
            name: "search_knowledge".into(),
            arguments: r#"{"query": "vpn setup"}"#.into(),
        }]))
    );
    assert_eq!(
        deltas.last(),
        Some(&Ok(LlmDelta::Finish(FinishReason::ToolCalls)))
    );
    let sent = &upstream.requests()[0];
    assert_eq!(sent["tools"][0]["type"], "function");
    assert_eq!(sent["tools"][0]["function"]["name"], "search_knowledge");
}

#[tokio::test]
async fn retries_a_429_after_its_retry_after() {
    let upstream = Upstream::start(vec![Reply::Error {
        status: 429,
        retry_after: Some("1"),
        kind: "requests",
        code: "rate_limit_exceeded",
        message: "Rate limit reached",
    }])
    .await;
    let llm = LlmClient::new(config(&upstream.base_url)).unwrap();
    let deltas = collect(llm.stream(&question()).await.unwrap()).await;
    assert_eq!(deltas[0], Ok(LlmDelta::Text("ok".into())));
    let arrivals = upstream.arrivals();
    assert_eq!(arrivals.len(), 2);
    let waited = arrivals[1] - arrivals[0];
    assert!(waited >= Duration::from_secs(1), "retried after {waited:?}");
    assert!(waited < Duration::from_secs(3), "retried after {waited:?}");
}

#[tokio::test]
async fn retries_server_errors_with_backoff() {
    let upstream = Upstream::start(vec![
        Reply::error(500, "boom"),
        Reply::error(503, "overloaded"),
        Reply::Text(vec!["recovered"]),
    ])
    .await;
    let llm = LlmClient::new(config(&upstream.base_url)).unwrap();
    let deltas = collect(llm.stream(&question()).await.unwrap()).await;
    assert_eq!(deltas[0], Ok(LlmDelta::Text("recovered".into())));
    let arrivals = upstream.arrivals();
    assert_eq!(arrivals.len(), 3);
    // Jittered backoff: 125–250 ms, then 250–500 ms.
    assert!(arrivals[1] - arrivals[0] >= Duration::from_millis(125));
    assert!(arrivals[2] - arrivals[1] >= Duration::from_millis(250));
}

#[tokio::test]
async fn gives_up_after_max_retries() {
    let upstream = Upstream::start(vec![
        Reply::error(502, "bad gateway"),
        Reply::error(502, "bad gateway"),
        Reply::error(502, "bad gateway"),
    ])
    .await;
    let llm = LlmClient::new(config(&upstream.base_url)).unwrap();
    let error = llm.stream(&question()).await.unwrap_err();
    assert!(
        matches!(error, LlmError::Transient(ref m) if m.contains("502")),
        "{error:?}"
    );
    assert_eq!(upstream.requests().len(), 3);
}

#[tokio::test]
async fn a_bad_request_is_permanent_and_not_retried() {
    let upstream = Upstream::start(vec![Reply::Error {
        status: 400,
        retry_after: None,
        kind: "invalid_request_error",
        code: "invalid_value",
        message: "Invalid value for 'temperature'",
    }])
    .await;
    let llm = LlmClient::new(config(&upstream.base_url)).unwrap();
    let error = llm.stream(&question()).await.unwrap_err();
    assert!(
        matches!(error, LlmError::Permanent(ref m) if m.contains("temperature")),
        "{error:?}"
    );
    assert_eq!(upstream.requests().len(), 1);
}

#[tokio::test]
async fn a_context_length_error_is_sorted_as_such() {
    let upstream = Upstream::start(vec![Reply::Error {
        status: 400,
        retry_after: None,
        kind: "invalid_request_error",
        code: "context_length_exceeded",
        message: "This model's maximum context length is 8192 tokens.",
    }])
    .await;
    let llm = LlmClient::new(config(&upstream.base_url)).unwrap();
    let error = llm.stream(&question()).await.unwrap_err();
    assert!(matches!(error, LlmError::ContextLength(_)), "{error:?}");
    assert_eq!(upstream.requests().len(), 1);
}

#[tokio::test]
async fn the_breaker_opens_rejects_fast_then_recovers_through_a_probe() {
    let upstream =
        Upstream::start(vec![Reply::error(500, "down"), Reply::error(500, "down")]).await;
    let llm = LlmClient::new(LlmConfig {
        max_retries: 0,
        breaker: BreakerConfig {
            failure_threshold: 2,
            cool_down: Duration::from_millis(300),
        },
        ..config(&upstream.base_url)
    })
    .unwrap();
    for _ in 0..2 {
        let error = llm.stream(&question()).await.unwrap_err();
        assert!(matches!(error, LlmError::Transient(_)), "{error:?}");
    }
    assert_eq!(llm.breaker_state(), BreakerState::Open);

    let started = Instant::now();
    let error = llm.stream(&question()).await.unwrap_err();
    assert_eq!(error, LlmError::CircuitOpen);
    assert!(started.elapsed() < Duration::from_millis(100));
    assert_eq!(
        upstream.requests().len(),
        2,
        "an open breaker sends nothing"
    );

    // A clone shares the breaker: it is one per process, not per handle.
    assert_eq!(llm.clone().breaker_state(), BreakerState::Open);

    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(llm.breaker_state(), BreakerState::HalfOpen);
    let deltas = collect(llm.stream(&question()).await.unwrap()).await;
    assert_eq!(deltas[0], Ok(LlmDelta::Text("ok".into())));
    assert_eq!(llm.breaker_state(), BreakerState::Closed);
}

#[tokio::test]
async fn times_out_waiting_for_the_first_token() {
    let upstream = Upstream::start(vec![Reply::Hang, Reply::RoleThenStall]).await;
    let llm = LlmClient::new(LlmConfig {
        first_token_timeout: Duration::from_millis(300),
        max_retries: 0,
        ..config(&upstream.base_url)
    })
    .unwrap();
    for _ in 0..2 {
        let started = Instant::now();
        let error = llm.stream(&question()).await.unwrap_err();
        assert_eq!(error, LlmError::Timeout);
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(300) && waited < Duration::from_secs(2),
            "{waited:?}"
        );
    }
}

#[tokio::test]
async fn a_first_token_timeout_is_retried() {
    let upstream = Upstream::start(vec![Reply::Hang, Reply::Text(vec!["late"])]).await;
    let llm = LlmClient::new(LlmConfig {
        first_token_timeout: Duration::from_millis(300),
        ..config(&upstream.base_url)
    })
    .unwrap();
    let deltas = collect(llm.stream(&question()).await.unwrap()).await;
    assert_eq!(deltas[0], Ok(LlmDelta::Text("late".into())));
    assert_eq!(upstream.requests().len(), 2);
}

#[tokio::test]
async fn a_stream_that_stalls_mid_answer_times_out_without_retry() {
    let upstream = Upstream::start(vec![Reply::TextThenStall(vec!["partial"])]).await;
    let llm = LlmClient::new(LlmConfig {
        first_token_timeout: Duration::from_millis(300),
        ..config(&upstream.base_url)
    })
    .unwrap();
    let deltas = collect(llm.stream(&question()).await.unwrap()).await;
    assert_eq!(
        deltas,
        vec![Ok(LlmDelta::Text("partial".into())), Err(LlmError::Timeout)]
    );
    assert_eq!(upstream.requests().len(), 1, "text was shown: no retry");
}

#[tokio::test]
async fn the_total_budget_bounds_the_whole_answer() {
    let upstream = Upstream::start(vec![Reply::TextThenStall(vec!["partial"])]).await;
    let llm = LlmClient::new(LlmConfig {
        total_timeout: Duration::from_millis(400),
        ..config(&upstream.base_url)
    })
    .unwrap();
    let started = Instant::now();
    let deltas = collect(llm.stream(&question()).await.unwrap()).await;
    assert_eq!(deltas.last(), Some(&Err(LlmError::Timeout)));
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(400) && waited < Duration::from_millis(1500),
        "{waited:?}"
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_budget_fails_at_once() {
    let upstream = Upstream::start(vec![Reply::Error {
        status: 429,
        retry_after: Some("30"),
        kind: "requests",
        code: "rate_limit_exceeded",
        message: "Rate limit reached",
    }])
    .await;
    let llm = LlmClient::new(config(&upstream.base_url)).unwrap();
    let started = Instant::now();
    let error = llm.stream(&question()).await.unwrap_err();
    assert!(
        matches!(error, LlmError::Transient(ref m) if m.contains("429")),
        "{error:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(upstream.requests().len(), 1);
}

#[tokio::test]
async fn dropping_the_stream_closes_the_upstream_request() {
    let upstream = Upstream::start(vec![Reply::TextThenStall(vec!["first"])]).await;
    let llm = LlmClient::new(config(&upstream.base_url)).unwrap();
    let mut stream = llm.stream(&question()).await.unwrap();
    assert_eq!(
        stream.next().await,
        Some(Ok(LlmDelta::Text("first".into())))
    );
    assert_eq!(upstream.closed_streams(), 0);
    drop(stream);
    let deadline = Instant::now() + Duration::from_secs(2);
    while upstream.closed_streams() == 0 {
        assert!(
            Instant::now() < deadline,
            "the server never saw the client leave"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_refused_connection_is_transient_and_retried() {
    let base_url = refusing_base_url().await;
    let llm = LlmClient::new(LlmConfig {
        max_retries: 1,
        ..config(&base_url)
    })
    .unwrap();
    let started = Instant::now();
    let error = llm.stream(&question()).await.unwrap_err();
    assert!(matches!(error, LlmError::Transient(_)), "{error:?}");
    // One backoff (125–250 ms) between the two attempts.
    assert!(started.elapsed() >= Duration::from_millis(125));
}

#[test]
fn the_api_key_is_kept_out_of_debug_output() {
    let config = config("http://127.0.0.1:1/v1");
    let shown = format!("{config:?} {:?}", LlmClient::new(config.clone()).unwrap());
    assert!(!shown.contains("sk-test"), "{shown}");
}
