//! The chat gateway end to end, without an LLM (the offline composer): SSE and
//! WebSocket front doors, idempotent sends, resume, conversations, and bad input.

use e2e::{expect_error, expect_json, spawn_app};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

const POLICY: &str = "# Cloud Cost Policy\n\n## Anomalies\n\nA day whose spend exceeds the trailing \
14-day average by more than 30% is an anomaly. The FinOps team reviews every anomaly within two \
business days.\n";

/// Parses an SSE body into its events.
fn sse_events(body: &str) -> Vec<Value> {
    body.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str(d.trim()).ok())
        .collect()
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().filter_map(|e| e["type"].as_str()).collect()
}

#[tokio::test]
async fn an_sse_turn_streams_a_grounded_offline_answer_and_is_recorded() {
    let app = spawn_app().await;
    let tenant = app.seed_tenant("Chatco").await;
    let token = app.admin_token(&tenant).await;
    let res = app
        .client
        .post(app.url("/api/v1/knowledge/documents"))
        .bearer_auth(&token)
        .json(&json!({"title": "Cloud Cost Policy", "text": POLICY, "personas": ["cfo"]}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());

    let res = app
        .client
        .post(app.url("/api/v1/chat"))
        .bearer_auth(&token)
        .json(&json!({"client_msg_id": "m1", "text": "What counts as a cloud spend anomaly?", "persona": "cfo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let events = sse_events(&res.text().await.unwrap());
    let kinds = types(&events);
    assert_eq!(kinds.first(), Some(&"message.start"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"message.end"), "{kinds:?}");
    assert!(
        kinds.contains(&"classification") && kinds.contains(&"retrieval"),
        "{kinds:?}"
    );
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    let classification = events
        .iter()
        .find(|e| e["type"] == "classification")
        .unwrap();
    assert_eq!(classification["persona"], "cfo");
    let citations = events.iter().find(|e| e["type"] == "retrieval").unwrap()["citations"]
        .as_array()
        .unwrap()
        .clone();
    assert!(!citations.is_empty());
    assert_eq!(citations[0]["n"], 1);
    let answer: String = events
        .iter()
        .filter(|e| e["type"] == "text.delta")
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert!(answer.contains("[1]") && answer.contains("30%"), "{answer}");
    assert!(answer.contains("Offline mode"), "{answer}");
    let end = events.last().unwrap();
    assert_eq!(end["finish_reason"], "stop");
    assert!(end["timings_ms"]["total"].as_u64().is_some());

    let conversation = events[0]["conversation_id"].as_str().unwrap();
    let list = expect_json(
        app.client
            .get(app.url("/api/v1/conversations"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(list["conversations"][0]["id"], conversation);
    let detail = expect_json(
        app.client
            .get(app.url(&format!("/api/v1/conversations/{conversation}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let messages = detail["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1]["role"], "assistant");
    assert_eq!(messages[1]["text"].as_str().unwrap(), answer);
    assert_eq!(messages[1]["persona"], "cfo");

    // Another user of the same tenant cannot read it.
    let (_, viewer) = app.user_with_role(&token, "viewer").await;
    let res = app
        .client
        .get(app.url(&format!("/api/v1/conversations/{conversation}")))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(res, 404).await, "not_found");

    // Bad input: empty text, unknown fields, no credentials.
    for body in [
        json!({"client_msg_id": "m2", "text": "   "}),
        json!({"client_msg_id": "", "text": "hi"}),
    ] {
        let res = app
            .client
            .post(app.url("/api/v1/chat"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(expect_error(res, 422).await, "validation_error");
    }
    let res = app
        .client
        .post(app.url("/api/v1/chat"))
        .bearer_auth(&token)
        .json(&json!({"client_msg_id": "m3", "text": "hi", "colour": "red"}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(res, 422).await, "validation_error");
    let res = app
        .client
        .post(app.url("/api/v1/chat"))
        .json(&json!({"client_msg_id": "m4", "text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(res, 401).await, "unauthorized");
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(base: &str, token: &str) -> Socket {
    let url = format!(
        "{}/ws/chat?access_token={token}",
        base.replacen("http://", "ws://", 1)
    );
    let (socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    socket
}

async fn next_json(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .expect("an event within 30 s")
            .expect("the socket stays open")
            .unwrap();
        if let Message::Text(text) = message {
            return serde_json::from_str(text.as_str()).unwrap();
        }
    }
}

/// Reads frames until the end of `message_id` (or of the first message seen).
async fn read_turn(socket: &mut Socket) -> Vec<Value> {
    let mut events = Vec::new();
    loop {
        let event = next_json(socket).await;
        let end = event["type"] == "message.end";
        events.push(event);
        if end {
            return events;
        }
    }
}

#[tokio::test]
async fn websocket_chat_is_idempotent_resumable_and_refuses_bad_frames() {
    let app = spawn_app().await;
    let tenant = app.seed_tenant("Wsco").await;
    let token = app.admin_token(&tenant).await;

    // Without credentials the upgrade is refused with the API's error shape.
    let res = app.client.get(app.url("/ws/chat")).send().await.unwrap();
    assert_eq!(expect_error(res, 401).await, "unauthorized");

    let mut socket = connect(&app.base, &token).await;
    socket.send(Message::text("{not json")).await.unwrap();
    let error = next_json(&mut socket).await;
    assert_eq!(error["type"], "error");
    assert_eq!(error["error_type"], "bad_request");
    socket
        .send(Message::text(r#"{"type":"ping"}"#))
        .await
        .unwrap();
    assert_eq!(next_json(&mut socket).await["type"], "pong");

    let send =
        json!({"type": "chat.send", "client_msg_id": "same", "text": "hello, what can you do?"});
    socket.send(Message::text(send.to_string())).await.unwrap();
    let first = read_turn(&mut socket).await;
    assert_eq!(first[0]["type"], "message.start");
    let message_id = first[0]["message_id"].as_str().unwrap().to_owned();
    let answer: String = first
        .iter()
        .filter(|e| e["type"] == "text.delta")
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert!(!answer.is_empty());

    // The same client_msg_id again replays that turn instead of answering twice.
    socket.send(Message::text(send.to_string())).await.unwrap();
    let again = read_turn(&mut socket).await;
    assert_eq!(again[0]["message_id"], message_id.as_str());
    assert_eq!(again.len(), first.len());

    // A new connection resumes after a given seq.
    drop(socket);
    let mut socket = connect(&app.base, &token).await;
    let resume = json!({"type": "resume", "message_id": message_id, "after_seq": 1});
    socket
        .send(Message::text(resume.to_string()))
        .await
        .unwrap();
    let rest = read_turn(&mut socket).await;
    assert_eq!(rest[0]["seq"], 2);
    assert_eq!(rest.len(), first.len() - 2);

    // Another tenant's message id resumes nothing.
    let other = app.seed_tenant("Otherco").await;
    let other_token = app.admin_token(&other).await;
    let mut intruder = connect(&app.base, &other_token).await;
    intruder
        .send(Message::text(resume.to_string()))
        .await
        .unwrap();
    intruder
        .send(Message::text(r#"{"type":"ping"}"#))
        .await
        .unwrap();
    let mut replies = [
        next_json(&mut intruder).await,
        next_json(&mut intruder).await,
    ];
    replies.sort_by_key(|r| r["type"].as_str().unwrap_or_default().to_owned());
    assert_eq!(replies[0]["type"], "error");
    assert_eq!(replies[0]["error_type"], "not_found");
    assert_eq!(replies[1]["type"], "pong");
    let nothing = tokio::time::timeout(Duration::from_secs(3), intruder.next()).await;
    assert!(nothing.is_err(), "no events of another tenant: {nothing:?}");

    // An unknown conversation id is refused; the connection stays usable.
    let unknown = json!({"type": "chat.send", "conversation_id": Uuid::new_v4(), "client_msg_id": "x", "text": "hi"});
    socket
        .send(Message::text(unknown.to_string()))
        .await
        .unwrap();
    let error = next_json(&mut socket).await;
    assert_eq!(error["error_type"], "not_found");
}

async fn sse_turn(app: &e2e::TestApp, token: &str, body: Value) -> Vec<Value> {
    let res = app
        .client
        .post(app.url("/api/v1/chat"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    sse_events(&res.text().await.unwrap())
}

fn answer_of(events: &[Value]) -> String {
    events
        .iter()
        .filter(|e| e["type"] == "text.delta")
        .map(|e| e["text"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn with_an_llm_pii_never_leaves_and_only_real_citations_survive() {
    use e2e::fake_openai::{FakeOpenAi, Reply};
    let fake = FakeOpenAi::start(vec![Reply::text(&[
        "Write to [EMA",
        "IL_1] about it. Anomalies are days over 30% [1]",
        " (not [9]).",
    ])])
    .await;
    let app = e2e::spawn_app_with(e2e::AppOptions {
        env: vec![
            ("OPENAI_BASE_URL".into(), fake.base_url.clone()),
            ("AOS_LLM_MODEL".into(), "fake-model".into()),
        ],
        ..Default::default()
    })
    .await;
    let tenant = app.seed_tenant("Llmco").await;
    let token = app.admin_token(&tenant).await;
    let res = app
        .client
        .post(app.url("/api/v1/knowledge/documents"))
        .bearer_auth(&token)
        .json(&json!({"title": "Cloud Cost Policy", "text": POLICY}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());

    let question =
        "What is a spend anomaly? Reply to jane.doe@example.com, card 4111 1111 1111 1111.";
    let events = sse_turn(
        &app,
        &token,
        json!({"client_msg_id": "l1", "text": question, "persona": "cfo"}),
    )
    .await;
    let answer = answer_of(&events);
    assert_eq!(
        answer,
        "Write to jane.doe@example.com about it. Anomalies are days over 30% [1] (not )."
    );
    let end = events.last().unwrap();
    assert_eq!(end["finish_reason"], "stop", "{events:?}");

    let sent = fake.requests();
    assert_eq!(sent.len(), 1);
    let prompt = sent[0].to_string();
    assert!(!prompt.contains("jane.doe@example.com"), "{prompt}");
    assert!(!prompt.contains("4111 1111 1111 1111"), "{prompt}");
    assert!(prompt.contains("[EMAIL_1]"), "{prompt}");
    assert!(
        prompt.contains("30%"),
        "the retrieved passage is in the prompt: {prompt}"
    );

    // The recorded message names the model.
    let conversation = events[0]["conversation_id"].as_str().unwrap();
    let detail = expect_json(
        app.client
            .get(app.url(&format!("/api/v1/conversations/{conversation}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(detail["messages"][1]["model"], "fake-model");
}

#[tokio::test]
async fn when_the_llm_is_down_the_composer_answers() {
    let endpoint = e2e::fake_openai::refusing_endpoint().await;
    let app = e2e::spawn_app_with(e2e::AppOptions {
        env: vec![
            ("OPENAI_BASE_URL".into(), endpoint),
            ("AOS_LLM_MODEL".into(), "down-model".into()),
        ],
        ..Default::default()
    })
    .await;
    let tenant = app.seed_tenant("Downco").await;
    let token = app.admin_token(&tenant).await;
    let events = sse_turn(
        &app,
        &token,
        json!({"client_msg_id": "d1", "text": "hello, what can you do?"}),
    )
    .await;
    let answer = answer_of(&events);
    assert!(answer.contains("language model is unavailable"), "{answer}");
    assert_eq!(events.last().unwrap()["finish_reason"], "stop");
}

#[tokio::test]
async fn the_openai_compatible_api_answers_with_an_api_key() {
    let app = spawn_app().await;
    let tenant = app.seed_tenant("Apico").await;
    let token = app.admin_token(&tenant).await;
    let created = expect_json(
        app.client
            .post(app.url("/api/v1/api-keys"))
            .bearer_auth(&token)
            .json(&json!({"name": "openai client", "role": "analyst"}))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let key = created["key"].as_str().unwrap().to_owned();

    let models = expect_json(
        app.client
            .get(app.url("/v1/models"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["aos-auto", "aos-cto", "aos-cro", "aos-coo", "aos-cfo"]
    );

    let body = json!({"model": "aos-cfo", "messages": [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hello, what can you do?"}]});
    let reply = expect_json(
        app.client
            .post(app.url("/v1/chat/completions"))
            .bearer_auth(&key)
            .json(&body)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(reply["object"], "chat.completion");
    assert_eq!(reply["choices"][0]["message"]["role"], "assistant");
    assert!(
        !reply["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .is_empty()
    );
    assert_eq!(reply["aos"]["classification"]["persona"], "cfo");

    let mut streamed = body.clone();
    streamed["stream"] = json!(true);
    let res = app
        .client
        .post(app.url("/v1/chat/completions"))
        .bearer_auth(&key)
        .json(&streamed)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    let chunks = sse_events(&text);
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk")
    );
    let content: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert!(!content.is_empty());
    assert!(chunks.last().unwrap()["choices"][0]["finish_reason"] == "stop");

    // Earlier messages in the request become the conversation's history.
    let follow_up = expect_json(
        app.client
            .post(app.url("/v1/chat/completions"))
            .bearer_auth(&key)
            .json(&json!({"model": "aos-cfo", "messages": [
                {"role": "user", "content": "What counts as a cloud spend anomaly?"},
                {"role": "assistant", "content": "A day 30% over the trailing average."},
                {"role": "user", "content": "and who reviews them?"}]}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let conversation = follow_up["aos"]["conversation_id"].as_str().unwrap();
    let detail = expect_json(
        app.client
            .get(app.url(&format!("/api/v1/conversations/{conversation}")))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let roles: Vec<&str> = detail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant", "user", "assistant"]);
    assert_eq!(
        detail["messages"][0]["text"],
        "What counts as a cloud spend anomaly?"
    );

    // Bad input: unknown model, no user message, no key.
    let res = app
        .client
        .post(app.url("/v1/chat/completions"))
        .bearer_auth(&key)
        .json(&json!({"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(res, 422).await, "validation_error");
    let res = app
        .client
        .post(app.url("/v1/chat/completions"))
        .bearer_auth(&key)
        .json(&json!({"model": "aos-auto", "messages": [{"role": "system", "content": "x"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(res, 422).await, "validation_error");
    let res = app
        .client
        .post(app.url("/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(res, 401).await, "unauthorized");
}

#[tokio::test]
async fn the_llm_may_call_tools_and_answers_from_their_results() {
    use e2e::fake_openai::{FakeOpenAi, Reply};
    let fake = FakeOpenAi::start(vec![
        Reply::tool_call("search_assets", json!({"pii_only": true})),
        Reply::text(&["No catalogued asset holds PII yet."]),
    ])
    .await;
    let app = e2e::spawn_app_with(e2e::AppOptions {
        env: vec![
            ("OPENAI_BASE_URL".into(), fake.base_url.clone()),
            ("AOS_LLM_MODEL".into(), "fake-model".into()),
        ],
        ..Default::default()
    })
    .await;
    let tenant = app.seed_tenant("Loopco").await;
    let token = app.admin_token(&tenant).await;
    let events = sse_turn(
        &app,
        &token,
        json!({"client_msg_id": "t1", "text": "What does our data governance policy say about personal data?", "persona": "cto"}),
    )
    .await;
    let kinds = types(&events);
    let call = events
        .iter()
        .find(|e| e["type"] == "tool.call")
        .expect("a tool call");
    assert_eq!(call["name"], "search_assets", "{kinds:?}");
    let result = events.iter().find(|e| e["type"] == "tool.result").unwrap();
    assert_eq!(result["ok"], true);
    assert_eq!(answer_of(&events), "No catalogued asset holds PII yet.");
    let requests = fake.requests();
    assert_eq!(
        requests.len(),
        2,
        "one round to call the tool, one to answer"
    );
    assert!(
        requests[0]["tools"]
            .as_array()
            .is_some_and(|t| !t.is_empty())
    );
    let second = requests[1]["messages"].as_array().unwrap();
    assert!(second.iter().any(|m| m["role"] == "tool"), "{second:?}");
}

#[tokio::test]
async fn a_pass_through_request_is_not_classified_grounded_or_routed_but_keeps_its_tools() {
    use e2e::fake_openai::{FakeOpenAi, Reply};
    let fake = FakeOpenAi::start(vec![Reply::text(&["Straight from the model."])]).await;
    let app = e2e::spawn_app_with(e2e::AppOptions {
        env: vec![
            ("OPENAI_BASE_URL".into(), fake.base_url.clone()),
            ("AOS_LLM_MODEL".into(), "fake-model".into()),
        ],
        ..Default::default()
    })
    .await;
    let tenant = app.seed_tenant("Passco").await;
    let token = app.admin_token(&tenant).await;
    let key = app.api_key(&token, "analyst").await;
    // A question a confident intent would route to a connector tool.
    let question = "Which of our data connectors are failing right now?";
    let request = |aos: Value| {
        let mut body = json!({"model": "aos-coo",
            "messages": [{"role": "user", "content": question}]});
        if !aos.is_null() {
            body["aos"] = aos;
        }
        app.client
            .post(app.url("/v1/chat/completions"))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };

    let reply = expect_json(
        request(json!({"retrieval": false, "routing": false}))
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(
        reply["choices"][0]["message"]["content"],
        "Straight from the model."
    );
    assert!(reply["aos"]["classification"].is_null(), "{reply}");
    let none = |v: &Value| v.as_array().is_none_or(Vec::is_empty);
    assert!(none(&reply["aos"]["citations"]), "{reply}");
    assert!(none(&reply["aos"]["tool_calls"]), "{reply}");
    let upstream = fake.requests();
    assert_eq!(upstream.len(), 1, "one round, no tie-break: {upstream:?}");
    assert!(
        upstream[0]["tools"].as_array().is_some_and(|t| t
            .iter()
            .any(|t| t["function"]["name"] == "connector_health")),
        "the model keeps the persona's tools: {}",
        upstream[0]["tools"]
    );
    let system = upstream[0]["messages"][0]["content"]
        .as_str()
        .unwrap_or_default();
    assert!(
        system.contains("COO") || system.contains("operations"),
        "{system}"
    );
    let conversation = reply["aos"]["conversation_id"].as_str().unwrap();
    let detail = expect_json(
        app.client
            .get(app.url(&format!("/api/v1/conversations/{conversation}")))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let recorded = &detail["messages"][1];
    assert_eq!(recorded["persona"], "coo");
    assert!(recorded["intent"].is_null(), "{recorded}");

    // The same question with the defaults is classified and routed.
    let routed = expect_json(request(Value::Null).await.unwrap(), 200).await;
    assert_eq!(
        routed["aos"]["classification"]["intent"],
        "connector_status"
    );
    assert!(
        routed["aos"]["tool_calls"]
            .as_array()
            .is_some_and(|calls| !calls.is_empty()),
        "{routed}"
    );
}

#[tokio::test]
async fn a_pass_through_turn_whose_llm_is_down_is_classified_for_the_composer() {
    let endpoint = e2e::fake_openai::refusing_endpoint().await;
    let app = e2e::spawn_app_with(e2e::AppOptions {
        env: vec![
            ("OPENAI_BASE_URL".into(), endpoint),
            ("AOS_LLM_MODEL".into(), "down-model".into()),
        ],
        ..Default::default()
    })
    .await;
    let tenant = app.seed_tenant("Passdown").await;
    let token = app.admin_token(&tenant).await;
    let key = app.api_key(&token, "analyst").await;
    let reply = expect_json(
        app.client
            .post(app.url("/v1/chat/completions"))
            .bearer_auth(&key)
            .json(
                &json!({"model": "aos-cfo", "aos": {"retrieval": false, "routing": false},
                "messages": [{"role": "user", "content": "hello, what can you do?"}]}),
            )
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let answer = reply["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(answer.contains("language model is unavailable"), "{answer}");
    assert_eq!(reply["aos"]["classification"]["persona"], "cfo");
    assert_eq!(
        reply["aos"]["classification"]["intent"], "platform_help",
        "{reply}"
    );
}

#[tokio::test]
async fn a_persona_the_user_picks_is_kept_whatever_the_question() {
    let app = spawn_app().await;
    let tenant = app.seed_tenant("Pinco").await;
    let token = app.admin_token(&tenant).await;
    let question = "How is our sales pipeline coverage for the enterprise segment this quarter?";
    let auto = sse_turn(
        &app,
        &token,
        json!({"client_msg_id": "p1", "text": question}),
    )
    .await;
    let auto_persona =
        auto.iter().find(|e| e["type"] == "classification").unwrap()["persona"].clone();
    assert_eq!(
        auto_persona, "cro",
        "left alone, a pipeline question is the CRO's"
    );
    let pinned = sse_turn(
        &app,
        &token,
        json!({"client_msg_id": "p2", "text": question, "persona": "cfo"}),
    )
    .await;
    let classification = pinned
        .iter()
        .find(|e| e["type"] == "classification")
        .unwrap();
    assert_eq!(classification["persona"], "cfo");
}
