//! The fake checked against async-openai's strict response types (which
//! require every field OpenAI always sends) and against raw HTTP.

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::chat::{CreateChatCompletionRequest, FinishReason};
use futures::StreamExt;

use super::*;

fn client(fake: &FakeOpenAi) -> Client<OpenAIConfig> {
    Client::with_config(
        OpenAIConfig::new()
            .with_api_base(&fake.base_url)
            .with_api_key("sk-fake"),
    )
}

fn request(stream: bool, user: &str) -> CreateChatCompletionRequest {
    serde_json::from_value(json!({
        "model": "gpt-4o-mini",
        "messages": [{"role": "system", "content": "Cite sources like [1]."}, {"role": "user", "content": user}],
        "stream": stream,
        "stream_options": if stream { json!({"include_usage": true}) } else { Value::Null },
    }))
    .unwrap()
}

#[tokio::test]
async fn streams_text_that_a_strict_client_parses() {
    let fake = FakeOpenAi::start(vec![Reply::text(&["Hel", "lo"])]).await;
    let mut stream = client(&fake)
        .chat()
        .create_stream(request(true, "hi"))
        .await
        .unwrap();
    let (mut text, mut finish, mut usage) = (String::new(), None, None);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        assert_eq!(chunk.object, "chat.completion.chunk");
        assert_eq!(chunk.model, "gpt-4o-mini");
        for choice in chunk.choices {
            text.push_str(choice.delta.content.as_deref().unwrap_or(""));
            finish = finish.or(choice.finish_reason);
        }
        usage = usage.or(chunk.usage);
    }
    assert_eq!(text, "Hello");
    assert_eq!(finish, Some(FinishReason::Stop));
    assert!(usage.unwrap().total_tokens > 0);
    assert_eq!(fake.requests()[0]["messages"][1]["content"], "hi");
}

#[tokio::test]
async fn streams_a_tool_call_in_fragments() {
    let fake = FakeOpenAi::start(vec![Reply::tool_call(
        "search_knowledge",
        json!({"query": "vpn setup guide"}),
    )])
    .await;
    let mut stream = client(&fake)
        .chat()
        .create_stream(request(true, "vpn?"))
        .await
        .unwrap();
    let (mut name, mut arguments, mut pieces, mut finish) = (None, String::new(), 0, None);
    while let Some(chunk) = stream.next().await {
        for choice in chunk.unwrap().choices {
            for call in choice.delta.tool_calls.unwrap_or_default() {
                assert_eq!(call.index, 0);
                if let Some(function) = call.function {
                    name = name.or(function.name);
                    if let Some(a) = function.arguments.filter(|a| !a.is_empty()) {
                        arguments.push_str(&a);
                        pieces += 1;
                    }
                }
            }
            finish = finish.or(choice.finish_reason);
        }
    }
    assert_eq!(name.as_deref(), Some("search_knowledge"));
    assert_eq!(pieces, 3, "the arguments came in fragments");
    let arguments: Value = serde_json::from_str(&arguments).unwrap();
    assert_eq!(arguments, json!({"query": "vpn setup guide"}));
    assert_eq!(finish, Some(FinishReason::ToolCalls));
}

#[tokio::test]
async fn answers_without_streaming_and_echoes_by_default() {
    let fake = FakeOpenAi::start(Vec::new()).await;
    let response = client(&fake)
        .chat()
        .create(request(false, "what is the VPN policy?"))
        .await
        .unwrap();
    assert_eq!(response.object, "chat.completion");
    let content = response.choices[0].message.content.clone().unwrap();
    assert_eq!(content, "Echo: what is the VPN policy? [1]");
    assert!(response.usage.unwrap().prompt_tokens > 0);
}

#[tokio::test]
async fn errors_carry_openai_shape_and_retry_after() {
    let fake = FakeOpenAi::start(vec![
        Reply::rate_limited(2),
        Reply::context_length_exceeded(),
    ])
    .await;
    let http = reqwest::Client::new();
    let url = format!("{}/chat/completions", fake.base_url);
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "x"}]});
    let res = http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "2");
    let error: Value = res.json().await.unwrap();
    assert_eq!(error["error"]["code"], "rate_limit_exceeded");
    let res = http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 400);
    let error: Value = res.json().await.unwrap();
    assert_eq!(error["error"]["code"], "context_length_exceeded");
    assert_eq!(error["error"]["type"], "invalid_request_error");
    // Bad JSON gets an OpenAI error too, and is not recorded.
    let res = http.post(&url).body("{not json").send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn counts_streams_the_client_abandoned() {
    let fake = FakeOpenAi::start(vec![Reply::stall_after(&["partial"])]).await;
    let res = reqwest::Client::new()
        .post(format!("{}/chat/completions", fake.base_url))
        .json(
            &json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "x"}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut body = res.bytes_stream();
    let first = body.next().await.unwrap().unwrap();
    assert!(first.starts_with(b"data: {"));
    drop(body);
    let deadline = Instant::now() + Duration::from_secs(2);
    while fake.cancelled_streams() == 0 {
        assert!(
            Instant::now() < deadline,
            "the fake never saw the client leave"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn lists_models_and_refuses_where_asked() {
    let fake = FakeOpenAi::start(Vec::new()).await;
    let models: Value = reqwest::get(format!("{}/models", fake.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(models["object"], "list");
    assert_eq!(models["data"][0]["id"], FAKE_MODEL);
    let refused = reqwest::get(format!("{}/models", refusing_endpoint().await)).await;
    assert!(refused.unwrap_err().is_connect());
}
