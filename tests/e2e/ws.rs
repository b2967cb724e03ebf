//! The chat WebSocket end to end: a full turn whose action waits for an
//! approval decided on the same connection, cancel, resume after a reconnect
//! (to the same replica and to another), approvals announced across
//! replicas, and bad input (odd frames, a 10 MB frame, a flood, someone
//! else's message).

use e2e::fake_openai::{FakeOpenAi, Reply};
use e2e::ws::{ChatSocket, answer_of, types};
use e2e::{AppOptions, TestApp, expect_json, spawn_app, spawn_app_with};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

const MAPPING_POLICY: &str = "# Schema Mapping Policy\n\n## Approving mappings\n\nA schema-mapping \
proposal links a source field such as a ticket's owning team to a canonical field. The data \
platform team approves a mapping proposal only after checking its confidence and sample values; \
approved mappings take effect at the next connector sync.\n";

/// The environment that points a server at a fake LLM.
fn llm_env(fake: &FakeOpenAi) -> Vec<(String, String)> {
    vec![
        ("OPENAI_BASE_URL".into(), fake.base_url.clone()),
        ("AOS_LLM_MODEL".into(), "fake-model".into()),
    ]
}

/// A slow streamed answer: `words` chunks, `delay` apart.
fn slow_answer(words: usize, delay: Duration) -> (Reply, String) {
    let chunks: Vec<String> = (0..words).map(|i| format!("word{i} ")).collect();
    let refs: Vec<&str> = chunks.iter().map(String::as_str).collect();
    (Reply::text_with_delay(&refs, delay), chunks.concat())
}

fn chat_send(client_msg_id: &str, text: &str) -> Value {
    json!({"type": "chat.send", "client_msg_id": client_msg_id, "text": text})
}

fn seqs(events: &[Value]) -> Vec<u64> {
    events.iter().filter_map(|e| e["seq"].as_u64()).collect()
}

/// Asserts `seqs` is exactly 0, 1, …, n: nothing lost, nothing twice.
fn assert_complete(seqs: &[u64]) {
    let expected: Vec<u64> = (0..seqs.len() as u64).collect();
    assert_eq!(seqs, expected, "every seq once, in order");
}

/// Events up to the `n`th `text.delta`: a message caught mid-stream.
async fn read_words(socket: &mut ChatSocket, n: usize) -> Vec<Value> {
    let mut events = Vec::new();
    let mut words = 0;
    while words < n {
        let event = socket.next_event().await;
        words += usize::from(event["type"] == "text.delta");
        events.push(event);
    }
    events
}

async fn conversation(app: &TestApp, token: &str, id: &str) -> Value {
    expect_json(
        app.client
            .get(app.url(&format!("/api/v1/conversations/{id}")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await
}

async fn ingest(app: &TestApp, token: &str, title: &str, text: &str, personas: &[&str]) {
    let res = app
        .client
        .post(app.url("/api/v1/knowledge/documents"))
        .bearer_auth(token)
        .json(&json!({"title": title, "text": text, "personas": personas}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
}

/// A folder for file connectors, to list in `AOS_FILE_ROOTS`.
fn file_root() -> String {
    let dir = std::env::temp_dir().join(format!("aos-e2e-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.to_string_lossy().into_owned()
}

/// A files connector and a pending proposal mapping its `tickets.owning_team`
/// to `ticket.team`, inserted as the superuser (no REST API creates them).
async fn seed_pending_mapping(app: &TestApp, tenant: Uuid, folder: &str) -> Uuid {
    let mut db = app.superuser_connection().await;
    let connector = Uuid::new_v4();
    sqlx::query(
        "insert into connectors (id, tenant_id, name, kind, config, status)
         values ($1, $2, 'ops-files', 'files', $3, 'drifted')",
    )
    .bind(connector)
    .bind(tenant)
    .bind(json!({"path": folder}))
    .execute(&mut db)
    .await
    .unwrap();
    let proposal = Uuid::new_v4();
    sqlx::query(
        "insert into mapping_proposals (id, tenant_id, connector_id, source_entity, source_field,
             source_type, canonical_entity, canonical_field, confidence, signals, rationale)
         values ($1, $2, $3, 'tickets', 'owning_team', 'text', 'ticket', 'team', 0.82, $4,
             'owning_team holds the support team a ticket is assigned to')",
    )
    .bind(proposal)
    .bind(tenant)
    .bind(connector)
    .bind(json!({"lexical": 0.7, "semantic": 0.8, "samples": ["Billing", "Platform"]}))
    .execute(&mut db)
    .await
    .unwrap();
    proposal
}

#[tokio::test]
async fn a_turn_classifies_cites_asks_for_approval_and_continues_once_decided() {
    let folder = file_root();
    let app = spawn_app_with(AppOptions {
        env: vec![("AOS_FILE_ROOTS".into(), folder.clone())],
        ..Default::default()
    })
    .await;
    let tenant = app.seed_tenant("Mapco").await;
    let admin = app.admin_token(&tenant).await;
    let (approver_id, approver) = app.user_with_role(&admin, "approver").await;
    ingest(
        &app,
        &admin,
        "Schema Mapping Policy",
        MAPPING_POLICY,
        &["cto"],
    )
    .await;
    let proposal = seed_pending_mapping(&app, tenant.id, &folder).await;

    let mut socket = ChatSocket::connect(&app.base, &approver).await;
    let mut send = chat_send("approve-1", "approve the pending mapping for owning_team");
    send["persona"] = json!("cto");
    socket.send(&send).await;
    let before = socket
        .read_until(|e| e["type"] == "approval.required" || e["type"] == "message.end")
        .await;
    assert_eq!(
        types(&before),
        [
            "message.start",
            "classification",
            "retrieval",
            "tool.call",
            "approval.required"
        ],
        "{before:#?}"
    );
    let message_id = before[0]["message_id"].as_str().unwrap().to_owned();
    let conversation_id = before[0]["conversation_id"].as_str().unwrap().to_owned();
    assert_eq!(before[1]["persona"], "cto");
    assert_eq!(before[1]["intent"], "mapping_review", "{:#}", before[1]);
    let citations = before[2]["citations"].as_array().unwrap();
    assert!(!citations.is_empty(), "{:#}", before[2]);
    assert_eq!(citations[0]["n"], 1);
    assert_eq!(citations[0]["title"], "Schema Mapping Policy");
    let call = &before[3];
    assert_eq!(call["name"], "approve_mapping", "{call:#}");
    let required = &before[4];
    assert_eq!(required["action"], "approve_mapping");
    assert_eq!(required["arguments"]["proposal_id"], proposal.to_string());
    assert!(required["expires_at"].is_string());
    let approval_id = required["approval_id"].as_str().unwrap().to_owned();

    // Nothing has happened yet: the proposal is still pending.
    let pending = expect_json(
        app.client
            .get(app.url("/api/v1/approvals?status=pending"))
            .bearer_auth(&approver)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(pending["approvals"][0]["id"], approval_id.as_str());

    // The approver decides on the same connection; the answer continues.
    socket
        .send(
            &json!({"type": "approval.decide", "approval_id": approval_id,
            "decision": "approve", "comment": "checked the samples"}),
        )
        .await;
    let after = socket.read_turn().await;
    // Besides the message's own events, every client of the tenant hears of
    // the decision (an announcement without a seq).
    let (own, announced): (Vec<Value>, Vec<Value>) = after
        .into_iter()
        .partition(|e| e["message_id"] == message_id.as_str());
    assert!(
        announced
            .iter()
            .all(|e| e["type"] == "approval.decided" && e["approval_id"] == approval_id.as_str()),
        "{announced:#?}"
    );
    let kinds = types(&own);
    assert_eq!(kinds[..2], ["approval.decided", "tool.result"], "{own:#?}");
    assert_eq!(kinds.last(), Some(&"message.end"), "{own:#?}");
    assert!(kinds.contains(&"text.delta"), "{kinds:?}");
    let decided = &own[0];
    assert_eq!(decided["approval_id"], approval_id.as_str());
    assert_eq!(decided["by"], approver_id.to_string());
    assert!(decided["decision"] == "approve", "{decided}");
    let result = &own[1];
    assert_eq!(result["call_id"], call["call_id"]);
    assert_eq!(result["ok"], true, "{result:#}");
    assert!(
        result["summary"].as_str().unwrap().contains("owning_team"),
        "{result:#}"
    );
    assert_eq!(own.last().unwrap()["finish_reason"], "stop");
    let all: Vec<Value> = before.iter().cloned().chain(own.iter().cloned()).collect();
    assert_complete(&seqs(&all));
    let answer = answer_of(&all);
    assert!(!answer.trim().is_empty());

    // Recorded: the message with its tool call and approval; the mapping
    // is approved and no longer pending.
    let detail = conversation(&app, &approver, &conversation_id).await;
    let stored = &detail["messages"][1];
    assert_eq!(stored["text"].as_str().unwrap(), answer);
    assert_eq!(stored["intent"], "mapping_review");
    assert_eq!(stored["tool_calls"][0]["name"], "approve_mapping");
    assert_eq!(stored["tool_calls"][0]["ok"], true);
    assert_eq!(stored["approvals"][0]["approval_id"], approval_id.as_str());
    assert!(!stored["citations"].as_array().unwrap().is_empty());
    let listed = expect_json(
        app.client
            .post(app.url("/api/v1/tools/list_pending_mappings/invoke"))
            .bearer_auth(&approver)
            .json(&json!({"arguments": {}}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(listed["data"]["total"], 0, "{listed:#}");
    let _ = std::fs::remove_dir_all(&folder);
}

#[tokio::test]
async fn chat_cancel_ends_the_message_and_drops_the_upstream_stream() {
    let (reply, _) = slow_answer(200, Duration::from_millis(100));
    let fake = FakeOpenAi::start(vec![reply]).await;
    let app = spawn_app_with(AppOptions {
        env: llm_env(&fake),
        ..Default::default()
    })
    .await;
    let tenant = app.seed_tenant("Cancelco").await;
    let token = app.admin_token(&tenant).await;

    let mut socket = ChatSocket::connect(&app.base, &token).await;
    socket
        .send(&chat_send("c1", "hello, what can you do?"))
        .await;
    let started = socket.read_until(|e| e["type"] == "text.delta").await;
    let message_id = started[0]["message_id"].as_str().unwrap().to_owned();
    assert_eq!(fake.cancelled_streams(), 0);
    socket
        .send(&json!({"type": "chat.cancel", "message_id": message_id}))
        .await;
    let rest = socket.read_turn().await;
    let end = rest.last().unwrap();
    assert_eq!(end["message_id"], message_id.as_str());
    assert_eq!(end["finish_reason"], "cancelled", "{end:#}");
    let all: Vec<Value> = started.into_iter().chain(rest).collect();
    assert_complete(&seqs(&all));
    // Far fewer than the 200 words were streamed.
    let answer = answer_of(&all);
    assert!(answer.split_whitespace().count() < 150, "{answer}");

    // The upstream request was dropped, not read to its end.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while fake.cancelled_streams() == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the upstream stream is still being read"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(fake.requests().len(), 1);

    // What was said before the cancel is recorded, marked cancelled.
    let conversation_id = all[0]["conversation_id"].as_str().unwrap();
    let detail = conversation(&app, &token, conversation_id).await;
    let stored = &detail["messages"][1];
    assert_eq!(stored["finish_reason"], "cancelled");
    assert_eq!(stored["text"].as_str().unwrap(), answer);
    socket.ping().await;
}

#[tokio::test]
async fn a_reconnect_resumes_mid_stream_without_loss_or_duplication() {
    let (reply, full) = slow_answer(30, Duration::from_millis(100));
    let fake = FakeOpenAi::start(vec![reply]).await;
    let app = spawn_app_with(AppOptions {
        env: llm_env(&fake),
        ..Default::default()
    })
    .await;
    let tenant = app.seed_tenant("Resumeco").await;
    let token = app.admin_token(&tenant).await;

    let mut socket = ChatSocket::connect(&app.base, &token).await;
    socket
        .send(&chat_send("r1", "hello, what can you do?"))
        .await;
    // Read until a few words have arrived, then lose the connection.
    let first = read_words(&mut socket, 3).await;
    assert!(!first.iter().any(|e| e["type"] == "message.end"));
    drop(socket);
    let message_id = first[0]["message_id"].as_str().unwrap().to_owned();
    let last_seq = first.last().unwrap()["seq"].as_u64().unwrap();

    let mut socket = ChatSocket::connect(&app.base, &token).await;
    socket
        .send(&json!({"type": "resume", "message_id": message_id, "after_seq": last_seq}))
        .await;
    let rest = socket.read_turn().await;
    assert!(rest.iter().all(|e| e["message_id"] == message_id.as_str()));
    assert_eq!(rest.last().unwrap()["finish_reason"], "stop", "{rest:#?}");
    let all: Vec<Value> = first.into_iter().chain(rest).collect();
    assert_complete(&seqs(&all));
    let answer = answer_of(&all);
    assert_eq!(answer, full);
    let conversation_id = all[0]["conversation_id"].as_str().unwrap();
    let detail = conversation(&app, &token, conversation_id).await;
    assert_eq!(detail["messages"][1]["text"].as_str().unwrap(), answer);
}

fn demo_files() -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo/platform");
    std::fs::canonicalize(root)
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[tokio::test]
async fn two_replicas_share_approvals_resume_buffers_and_cancels() {
    let root = demo_files();
    let (reply, full) = slow_answer(30, Duration::from_millis(100));
    let fake = FakeOpenAi::start(vec![reply]).await;
    let mut env = llm_env(&fake);
    env.push(("AOS_FILE_ROOTS".into(), root.clone()));
    let a = spawn_app_with(AppOptions {
        env: env.clone(),
        ..Default::default()
    })
    .await;
    let b = a.spawn_replica(env).await;
    assert_ne!(a.base, b.base);
    let tenant = a.seed_tenant("Replico").await;
    let admin = a.admin_token(&tenant).await;
    let (_, analyst) = a.user_with_role(&admin, "analyst").await;
    let (approver_id, approver) = a.user_with_role(&admin, "approver").await;

    // An approval asked for through replica A, a client listening on A.
    let mut listener = ChatSocket::connect(&a.base, &analyst).await;
    listener.ping().await;
    let requested = expect_json(
        a.client
            .post(a.url("/api/v1/tools/run_discovery/invoke"))
            .bearer_auth(&analyst)
            .json(&json!({"arguments": {"files_path": format!("{root}/files")}}))
            .send()
            .await
            .unwrap(),
        202,
    )
    .await;
    let approval_id = requested["approval"]["id"].as_str().unwrap().to_owned();

    // Decided through replica B: the client on A hears of it.
    let decided = expect_json(
        b.client
            .post(b.url(&format!("/api/v1/approvals/{approval_id}/decide")))
            .bearer_auth(&approver)
            .json(&json!({"decision": "approve"}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(decided["id"], approval_id.as_str(), "{decided:#}");
    let heard = listener
        .read_until(|e| e["type"] == "approval.decided")
        .await;
    let event = heard.last().unwrap();
    assert_eq!(event["approval_id"], approval_id.as_str());
    assert_eq!(event["by"], approver_id.to_string());
    assert!(event["decision"] == "approve", "{event}");

    // A message streamed on A, resumed on B after the client lost A.
    let mut on_a = ChatSocket::connect(&a.base, &admin).await;
    on_a.send(&chat_send("x1", "hello, what can you do?")).await;
    let first = read_words(&mut on_a, 3).await;
    drop(on_a);
    let message_id = first[0]["message_id"].as_str().unwrap().to_owned();
    let last_seq = first.last().unwrap()["seq"].as_u64().unwrap();
    let mut on_b = ChatSocket::connect(&b.base, &admin).await;
    on_b.send(&json!({"type": "resume", "message_id": message_id, "after_seq": last_seq}))
        .await;
    let rest = on_b.read_turn().await;
    assert_eq!(rest.last().unwrap()["finish_reason"], "stop", "{rest:#?}");
    let all: Vec<Value> = first.into_iter().chain(rest).collect();
    assert_complete(&seqs(&all));
    assert_eq!(answer_of(&all), full);
    let conversation_id = all[0]["conversation_id"].as_str().unwrap();
    let detail = conversation(&b, &admin, conversation_id).await;
    assert_eq!(detail["messages"][1]["text"].as_str().unwrap(), full);

    // A message streamed on A, cancelled by its owner through B; a colleague
    // on B cannot cancel it.
    fake.push(slow_answer(200, Duration::from_millis(100)).0);
    let mut on_a = ChatSocket::connect(&a.base, &admin).await;
    on_a.send(&chat_send("x2", "hello, what can you do?")).await;
    let first = on_a.read_until(|e| e["type"] == "text.delta").await;
    let message_id = first[0]["message_id"].as_str().unwrap().to_owned();
    let mut colleague = ChatSocket::connect(&b.base, &analyst).await;
    colleague
        .send(&json!({"type": "chat.cancel", "message_id": message_id}))
        .await;
    let refused = colleague.next_event().await;
    assert_eq!(refused["error_type"], "not_found", "{refused}");
    let mut on_b = ChatSocket::connect(&b.base, &admin).await;
    on_b.send(&json!({"type": "chat.cancel", "message_id": message_id}))
        .await;
    let rest = on_a.read_turn().await;
    assert_eq!(
        rest.last().unwrap()["finish_reason"],
        "cancelled",
        "{rest:#?}"
    );
    let all: Vec<Value> = first.into_iter().chain(rest).collect();
    assert_complete(&seqs(&all));
}

#[tokio::test]
async fn odd_frames_get_error_events_and_the_connection_stays_usable() {
    let app = spawn_app().await;
    let tenant = app.seed_tenant("Oddco").await;
    let token = app.admin_token(&tenant).await;
    let mut socket = ChatSocket::connect(&app.base, &token).await;
    let bad_frames = [
        Message::text("[1, 2, 3]"),
        Message::text("\"just a string\""),
        Message::text(""),
        Message::text(r#"{"type": "launch.missiles"}"#),
        Message::text(r#"{"no_type": true}"#),
        Message::text(r#"{"type": "chat.send"}"#),
        Message::text(r#"{"type": "chat.send", "client_msg_id": "a", "text": "hi", "extra": 1}"#),
        Message::text(r#"{"type": "resume", "message_id": "not-a-uuid", "after_seq": 0}"#),
        Message::text(
            r#"{"type": "approval.decide", "approval_id": "00000000-0000-0000-0000-000000000000", "decision": "maybe"}"#,
        ),
        Message::binary(vec![0u8, 159, 146, 150]),
    ];
    for frame in bad_frames {
        let label = format!("{frame:?}");
        socket.socket.send(frame).await.unwrap();
        let event = socket.next_event().await;
        assert_eq!(event["type"], "error", "{label}: {event}");
        assert_eq!(event["error_type"], "bad_request", "{label}: {event}");
        assert!(
            !event["message"].as_str().unwrap_or_default().is_empty(),
            "{label}"
        );
    }
    // Well-formed but refused: an approval that does not exist.
    socket
        .send(&json!({"type": "approval.decide", "approval_id": Uuid::new_v4(), "decision": "approve"}))
        .await;
    let event = socket.next_event().await;
    assert_eq!(event["error_type"], "not_found", "{event}");
    // A text that is too long is a validation error, not a dropped connection.
    socket.send(&chat_send("long", &"a".repeat(20_000))).await;
    let event = socket.next_event().await;
    assert_eq!(event["error_type"], "validation_error", "{event}");

    // Still a working connection: a real turn completes.
    socket.ping().await;
    socket
        .send(&chat_send("ok", "hello, what can you do?"))
        .await;
    let turn = socket.read_turn().await;
    assert_eq!(turn.last().unwrap()["finish_reason"], "stop");
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
    assert_eq!(list["conversations"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_10_mb_frame_is_closed_with_1009_and_the_server_stays_healthy() {
    let app = spawn_app().await;
    let tenant = app.seed_tenant("Bigco").await;
    let token = app.admin_token(&tenant).await;
    let mut socket = ChatSocket::connect(&app.base, &token).await;
    socket
        .send(&chat_send("before", "hello, what can you do?"))
        .await;
    let turn = socket.read_turn().await;
    let conversation_id = turn[0]["conversation_id"].as_str().unwrap().to_owned();

    let text = format!(
        r#"{{"type":"chat.send","client_msg_id":"big","text":"{}"}}"#,
        "a".repeat(10 * 1024 * 1024)
    );
    let (mut sink, mut stream) = socket.socket.split();
    // The server may stop reading half-way: the send can fail, that is fine.
    let sender = tokio::spawn(async move {
        let _ = sink.send(Message::text(text)).await;
        sink
    });
    let mut close = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while let Ok(Some(frame)) = tokio::time::timeout_at(deadline, stream.next()).await {
        match frame {
            Ok(Message::Close(frame)) => {
                close = frame;
                break;
            }
            Ok(Message::Text(text)) => panic!("expected a close, got {text}"),
            Ok(_) => continue,
            Err(e) => panic!("the connection was cut without a close frame: {e}"),
        }
    }
    let close = close.expect("a close frame with a code");
    assert_eq!(u16::from(close.code), 1009, "{close:?}");
    let _ = sender.await;

    // The server is fine, a new connection works, nothing was lost.
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let mut socket = ChatSocket::connect(&app.base, &token).await;
    socket.ping().await;
    let detail = conversation(&app, &token, &conversation_id).await;
    assert_eq!(detail["messages"].as_array().unwrap().len(), 2);
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
    assert_eq!(list["conversations"].as_array().unwrap().len(), 1);
}

/// What a flooding client heard back.
#[derive(Debug, Default)]
struct Heard {
    pongs: usize,
    starts: Vec<String>,
    ends: usize,
    rate_limited: usize,
    other_errors: Vec<Value>,
    close: Option<u16>,
}

impl Heard {
    fn take(&mut self, event: &Value) {
        match event["type"].as_str().unwrap_or_default() {
            "pong" => self.pongs += 1,
            "message.start" => self
                .starts
                .push(event["conversation_id"].as_str().unwrap().to_owned()),
            "message.end" => self.ends += 1,
            "error" if event["error_type"] == "rate_limited" => self.rate_limited += 1,
            "error" => self.other_errors.push(event.clone()),
            _ => {}
        }
    }
}

#[tokio::test]
async fn a_flood_of_frames_is_answered_or_refused_and_nothing_is_lost() {
    let app = spawn_app().await;
    let tenant = app.seed_tenant("Floodco").await;
    let token = app.admin_token(&tenant).await;
    let socket = ChatSocket::connect(&app.base, &token).await;
    let (mut sink, mut stream) = socket.socket.split();

    // 1,000 pings within about a second, then 100 chat sends at once.
    const PINGS: usize = 1000;
    const SENDS: usize = 100;
    let writer = tokio::spawn(async move {
        for i in 0..PINGS {
            sink.feed(Message::text(r#"{"type":"ping"}"#)).await?;
            if i % 100 == 99 {
                sink.flush().await?;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        for i in 0..SENDS {
            let send = chat_send(&format!("flood-{i}"), "hello, what can you do?");
            sink.feed(Message::text(send.to_string())).await?;
        }
        sink.flush().await?;
        Ok::<_, tokio_tungstenite::tungstenite::Error>(sink)
    });

    let mut heard = Heard::default();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(25);
    loop {
        let settled = heard.pongs == PINGS
            && heard.starts.len() + heard.rate_limited + heard.other_errors.len() == SENDS
            && heard.ends == heard.starts.len();
        if settled {
            break;
        }
        let frame = tokio::time::timeout_at(deadline, stream.next())
            .await
            .unwrap_or_else(|_| panic!("the flood was not answered in time: {heard:?}"));
        match frame {
            Some(Ok(Message::Text(text))) => {
                heard.take(&serde_json::from_str(text.as_str()).unwrap())
            }
            Some(Ok(Message::Close(frame))) => {
                heard.close = Some(frame.map_or(1005, |f| u16::from(f.code)));
                break;
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => panic!("cut without a close frame: {e}; {heard:?}"),
            None => panic!("ended without a close frame: {heard:?}"),
        }
    }
    let _ = writer.await;
    eprintln!(
        "flood: {} pongs, {} turns, {} rate-limited, close {:?}",
        heard.pongs,
        heard.starts.len(),
        heard.rate_limited,
        heard.close
    );
    assert!(heard.other_errors.is_empty(), "{heard:?}");
    match heard.close {
        // Closed as a client that sends too fast or reads too slowly.
        Some(code) => assert!([1008, 1013].contains(&code), "{heard:?}"),
        // Or served to the end: the rate limit refused most sends.
        None => {
            assert!(heard.rate_limited > 0, "{heard:?}");
            assert!(heard.starts.len() < SENDS, "{heard:?}");
        }
    }

    // Every admitted turn is recorded in full, and the server is fine.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let conversations = loop {
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
        let ids: Vec<String> = list["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect();
        let mut complete = true;
        for id in &ids {
            let detail = conversation(&app, &token, id).await;
            complete &= detail["messages"].as_array().unwrap().len() == 2;
        }
        if complete || tokio::time::Instant::now() > deadline {
            break ids;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for started in &heard.starts {
        assert!(conversations.contains(started), "{started} is recorded");
    }
    if heard.close.is_none() {
        assert_eq!(conversations.len(), heard.starts.len());
    }
    for id in &conversations {
        let detail = conversation(&app, &token, id).await;
        let messages = detail["messages"].as_array().unwrap();
        assert_eq!(messages.len(), 2, "{detail:#}");
        assert!(!messages[1]["text"].as_str().unwrap().is_empty());
    }
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let mut socket = ChatSocket::connect(&app.base, &token).await;
    socket.ping().await;
}

#[tokio::test]
async fn another_users_message_cannot_be_resumed_or_cancelled() {
    let (reply, _) = slow_answer(30, Duration::from_millis(100));
    let fake = FakeOpenAi::start(vec![reply]).await;
    let app = spawn_app_with(AppOptions {
        env: llm_env(&fake),
        ..Default::default()
    })
    .await;
    let tenant = app.seed_tenant("Privco").await;
    let admin = app.admin_token(&tenant).await;
    let (_, colleague) = app.user_with_role(&admin, "approver").await;

    // The admin's message, still streaming.
    let mut owner = ChatSocket::connect(&app.base, &admin).await;
    owner
        .send(&chat_send("mine", "hello, what can you do?"))
        .await;
    let first = owner.read_until(|e| e["type"] == "text.delta").await;
    let message_id = first[0]["message_id"].as_str().unwrap().to_owned();

    // A colleague in the same tenant asks for it from the start: nothing.
    let mut other = ChatSocket::connect(&app.base, &colleague).await;
    other
        .send(&json!({"type": "resume", "message_id": message_id, "after_seq": -1}))
        .await;
    expect_nothing_of(&mut other, &message_id).await;
    // Nor stopped: the cancel is refused as not found.
    other
        .send(&json!({"type": "chat.cancel", "message_id": message_id}))
        .await;
    let refused = other.next_event().await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["error_type"], "not_found", "{refused}");

    // The owner still gets the whole message.
    let rest = owner.read_turn().await;
    assert_eq!(rest.last().unwrap()["finish_reason"], "stop");
    let all: Vec<Value> = first.into_iter().chain(rest).collect();
    assert_complete(&seqs(&all));
    // Also once it has ended: still nothing for the colleague.
    other
        .send(&json!({"type": "resume", "message_id": message_id, "after_seq": 0}))
        .await;
    expect_nothing_of(&mut other, &message_id).await;
}

/// For a few seconds after a refused `resume`: no event of `message_id`
/// arrives (an error saying it is not found may), and the connection works.
async fn expect_nothing_of(socket: &mut ChatSocket, message_id: &str) {
    socket.send(&json!({"type": "ping"})).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    let mut ponged = false;
    while let Ok(next) = tokio::time::timeout_at(deadline, socket.next_event()).await {
        assert!(
            next.get("message_id").is_none() && next.get("seq").is_none(),
            "someone else's message was delivered: {next}"
        );
        match next["type"].as_str() {
            Some("pong") => ponged = true,
            Some("error") => assert_eq!(next["error_type"], "not_found", "{next}"),
            _ => panic!("unexpected event {next} after resuming {message_id}"),
        }
    }
    assert!(ponged, "the connection still answers a ping");
}

const VENDOR_POLICY: &str = "# Vendor Payments\n\n## Paying a vendor\n\nInvoices from Northwind \
are paid by bank transfer to IBAN GB82 WEST 1234 5698 7654 32 within 30 days. Questions go to \
the accounts payable desk on +44 20 7946 0958.\n";

/// The placeholders (`[EMAIL_1]`, `[NATIONAL_ID_1]`, …) in `text`.
fn placeholders(text: &str) -> std::collections::BTreeSet<String> {
    let mut found = std::collections::BTreeSet::new();
    for (open, _) in text.match_indices('[') {
        let rest = &text[open + 1..];
        let Some(close) = rest.find(']') else {
            continue;
        };
        let inner = &rest[..close];
        let Some((kind, n)) = inner.rsplit_once('_') else {
            continue;
        };
        let is_kind = !kind.is_empty() && kind.chars().all(|c| c.is_ascii_uppercase() || c == '_');
        if is_kind && !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) {
            found.insert(format!("[{inner}]"));
        }
    }
    found
}

#[tokio::test]
async fn no_pii_reaches_the_llm_from_questions_history_passages_titles_or_tool_results() {
    // With no script the fake echoes the question it was sent (redacted).
    let fake = FakeOpenAi::start(Vec::new()).await;
    let app = spawn_app_with(AppOptions {
        env: llm_env(&fake),
        ..Default::default()
    })
    .await;
    let tenant = app.seed_tenant("Piico").await;
    let token = app.admin_token(&tenant).await;
    ingest(
        &app,
        &token,
        "Vendor payments (ap-desk@northwind.example)",
        VENDOR_POLICY,
        &["cfo"],
    )
    .await;

    let secrets = [
        "123-45-6789",
        "sk-proj-Abc123Def456Ghi789Jkl012Mno345",
        "5500-0000-0000-0004",
        "dana.ops@example.com",
        "(415) 555-0123",
        "AKIAIOSFODNN7EXAMPLE",
    ];
    let first = format!(
        "How do we pay the Northwind vendor invoices? My SSN is {}, my key {} and the card {}.",
        secrets[0], secrets[1], secrets[2]
    );
    let second = format!(
        "Thanks. Send the invoice payment details to {} or call {}; the AWS key {} and SSN {} again.",
        secrets[3], secrets[4], secrets[5], secrets[0]
    );
    let mut socket = ChatSocket::connect(&app.base, &token).await;
    let mut send = chat_send("p1", &first);
    send["persona"] = json!("cfo");
    socket.send(&send).await;
    let turn1 = socket.read_turn().await;
    assert_eq!(turn1.last().unwrap()["finish_reason"], "stop", "{turn1:#?}");
    let conversation_id = turn1[0]["conversation_id"].as_str().unwrap().to_owned();
    let citations = turn1.iter().find(|e| e["type"] == "retrieval").unwrap()["citations"].clone();
    assert!(
        citations.to_string().contains("GB82 WEST"),
        "the passage was retrieved: {citations}"
    );
    // The user sees the originals: the echo of what the model was sent, restored.
    let shown = answer_of(&turn1);
    assert!(shown.starts_with(&format!("Echo: {first}")), "{shown}");

    let mut send = chat_send("p2", &second);
    send["conversation_id"] = json!(conversation_id);
    send["persona"] = json!("cfo");
    socket.send(&send).await;
    let turn2 = socket.read_turn().await;
    assert_eq!(turn2.last().unwrap()["finish_reason"], "stop", "{turn2:#?}");
    assert!(answer_of(&turn2).starts_with(&format!("Echo: {second}")));

    // The model calls a tool whose result holds PII: it goes back redacted.
    fake.push(Reply::tool_call(
        "search_knowledge",
        json!({"query": "Northwind vendor payments"}),
    ));
    fake.push(Reply::text(&["Pay Northwind by bank transfer [1]."]));
    let mut send = chat_send("p3", "Which bank account do we pay Northwind invoices to?");
    send["conversation_id"] = json!(conversation_id);
    send["persona"] = json!("cfo");
    socket.send(&send).await;
    let turn3 = socket.read_turn().await;
    assert_eq!(turn3.last().unwrap()["finish_reason"], "stop", "{turn3:#?}");
    let searched = turn3
        .iter()
        .find(|e| e["type"] == "tool.call" && e["name"] == "search_knowledge")
        .unwrap_or_else(|| panic!("the model's tool call ran: {turn3:#?}"));
    let result = turn3
        .iter()
        .find(|e| e["type"] == "tool.result" && e["call_id"] == searched["call_id"])
        .unwrap();
    assert_eq!(result["ok"], true, "{result:#}");

    let sent = fake.requests();
    assert_eq!(sent.len(), 4);
    let tool_message = sent[3]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "tool")
        .unwrap_or_else(|| panic!("the tool result went back: {:#}", sent[3]))
        .to_string();
    assert!(tool_message.contains("[IBAN_"), "{tool_message}");
    let passage_pii = [
        "GB82 WEST 1234 5698 7654 32",
        "+44 20 7946 0958",
        "ap-desk@northwind.example",
    ];
    for (i, request) in sent.iter().enumerate() {
        let body = request.to_string();
        for value in secrets.iter().chain(&passage_pii) {
            assert!(!body.contains(value), "request {i} carries {value}: {body}");
        }
    }
    // The same value keeps its placeholder from one turn to the next: the
    // history in the second request uses the first request's placeholders.
    let (one, two) = (sent[0].to_string(), sent[1].to_string());
    let (in_one, in_two) = (placeholders(&one), placeholders(&two));
    assert!(in_one.len() >= 4, "{in_one:?}");
    assert!(in_one.is_subset(&in_two), "{in_one:?} / {in_two:?}");
    let second_question = sent[1]["messages"].as_array().unwrap().last().unwrap()["content"]
        .as_str()
        .unwrap()
        .to_owned();
    let ssn_placeholder = placeholders(&second_question)
        .into_iter()
        .find(|p| p.starts_with("[NATIONAL_ID"))
        .expect("the SSN is a placeholder in the second question");
    assert!(one.contains(&ssn_placeholder), "{ssn_placeholder} in {one}");

    // What is stored and shown keeps the originals.
    let detail = conversation(&app, &token, &conversation_id).await;
    let messages = detail["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 6);
    assert_eq!(messages[0]["text"], first.as_str());
    assert_eq!(messages[1]["text"].as_str().unwrap(), shown);
    assert_eq!(messages[2]["text"], second.as_str());
}
