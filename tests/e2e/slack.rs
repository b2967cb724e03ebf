//! The Slack bot end to end: the real binary, PostgreSQL and Redis, and a
//! local fake of Slack's Web API ([`e2e::fake_slack`]). Mentions grow an
//! answer in their thread, retries are answered once, approvals are decided
//! from Slack buttons and reach web clients, slash commands answer through
//! `response_url`, and unsigned or malformed requests change nothing.

use e2e::fake_openai::{FAKE_MODEL, FakeOpenAi, Reply};
use e2e::fake_slack::{self, BOT_TOKEN, FakeSlack};
use e2e::{AppOptions, JWT_SECRET, PASSWORD, TestApp, expect_error, expect_json, spawn_app_with};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use uuid::Uuid;

const TEAM: &str = "T0E2ETEAM";
const SECRET: &str = "e2e-signing-secret-0123456789abcdef";
const CHANNEL: &str = "C0E2EFIN";
/// How long a turn may take to show up in the fake Slack: generous, for a
/// debug build on a busy machine (a fresh server embeds its exemplars first).
const TURN_WAIT: Duration = Duration::from_secs(60);

const POLICY: &str = "# Cloud Cost Policy\n\n## Anomalies\n\nA day whose spend exceeds the trailing \
14-day average by more than 30% is an anomaly. The FinOps team reviews every anomaly within two \
business days.\n";

/// Runs `aos` against the app's database with the servers' JWT secret (the
/// Slack secrets' key is derived from it); returns stdout.
async fn aos(app: &TestApp, args: &[&str]) -> String {
    let out = tokio::process::Command::new(e2e::aos_bin())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &app.database_url)
        .env("REDIS_URL", &app.redis_url)
        .env("AOS_REDIS_PREFIX", &app.redis_prefix)
        .env("AOS_JWT_SECRET", JWT_SECRET)
        .env(
            "AOS_MODEL_DIR",
            std::env::var("AOS_MODEL_DIR").unwrap_or_default(),
        )
        .output()
        .await
        .expect("run aos");
    assert!(
        out.status.success(),
        "aos {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A tenant with a registered workspace pointing at the fake Slack.
struct Setup {
    tenant: e2e::SeededTenant,
    admin: String,
}

async fn setup(app: &TestApp, slack: &FakeSlack, webhook: bool) -> Setup {
    let tenant = app.seed_tenant("Slackco").await;
    let admin = app.admin_token(&tenant).await;
    let api_base = slack.api_base();
    let webhook_url = slack.webhook_url();
    let tenant_id = tenant.id.to_string();
    let mut args = vec![
        "slack",
        "add",
        "--tenant",
        &tenant_id,
        "--team-id",
        TEAM,
        "--signing-secret",
        SECRET,
        "--bot-token",
        BOT_TOKEN,
        "--api-base",
        &api_base,
    ];
    if webhook {
        args.extend(["--webhook-url", webhook_url.as_str()]);
    }
    assert_eq!(aos(app, &args).await, TEAM);
    Setup { tenant, admin }
}

/// A user of the tenant with `role` and `persona`, linked to `slack_user`.
async fn linked_user(
    app: &TestApp,
    setup: &Setup,
    slack_user: &str,
    role: &str,
    persona: Option<&str>,
) -> (Uuid, String) {
    let email = format!(
        "{}-{}@example.com",
        slack_user.to_lowercase(),
        Uuid::new_v4().simple()
    );
    let created = expect_json(
        app.client
            .post(app.url("/api/v1/users"))
            .bearer_auth(&setup.admin)
            .json(&json!({"email": email, "password": PASSWORD, "role": role, "persona": persona}))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let id: Uuid = created["id"].as_str().unwrap().parse().unwrap();
    let link = expect_json(
        app.client
            .put(app.url("/api/v1/slack/users"))
            .bearer_auth(&setup.admin)
            .json(&json!({"team_id": TEAM, "slack_user_id": slack_user, "email": email}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(link["user_id"], id.to_string());
    let session = app.login(&email, PASSWORD).await;
    (id, session["access_token"].as_str().unwrap().to_owned())
}

/// Posts a body to a Slack endpoint as Slack does, signed with `secret`.
async fn post_signed(
    app: &TestApp,
    path: &str,
    secret: &str,
    body: &str,
    content_type: &str,
    retry: Option<u32>,
) -> reqwest::Response {
    let timestamp = fake_slack::now();
    let mut request = app
        .client
        .post(app.url(path))
        .header("content-type", content_type)
        .header("x-slack-request-timestamp", &timestamp)
        .header(
            "x-slack-signature",
            fake_slack::sign(secret, &timestamp, body),
        )
        .body(body.to_owned());
    if let Some(n) = retry {
        request = request
            .header("x-slack-retry-num", n.to_string())
            .header("x-slack-retry-reason", "http_timeout");
    }
    request.send().await.unwrap()
}

async fn post_event(app: &TestApp, body: &Value, retry: Option<u32>) -> reqwest::Response {
    post_signed(
        app,
        "/slack/events",
        SECRET,
        &body.to_string(),
        "application/json",
        retry,
    )
    .await
}

fn mention(event_id: &str, user: &str, text: &str, ts: &str) -> Value {
    json!({
        "token": "legacy-unused", "team_id": TEAM, "api_app_id": "A0E2EAPP", "type": "event_callback",
        "event_id": event_id, "event_time": 1_712_345_678,
        "authorizations": [{"team_id": TEAM, "user_id": "U0AOSBOT", "is_bot": true}],
        "event": {"type": "app_mention", "user": user, "text": format!("<@U0AOSBOT> {text}"),
                  "channel": CHANNEL, "ts": ts, "event_ts": ts, "team": TEAM}
    })
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A click on an approval card's button, as Slack posts it.
fn click(
    slack: &FakeSlack,
    user: &str,
    action_id: &str,
    approval_id: &str,
    response_id: &str,
) -> String {
    let payload = json!({
        "type": "block_actions", "api_app_id": "A0E2EAPP", "token": "legacy-unused",
        "team": {"id": TEAM, "domain": "e2e"},
        "user": {"id": user, "username": user.to_lowercase(), "team_id": TEAM},
        "container": {"type": "message", "message_ts": "1700000000.000001", "channel_id": CHANNEL, "is_ephemeral": false},
        "channel": {"id": CHANNEL, "name": "finance"},
        "trigger_id": "1.2.3",
        "response_url": slack.response_url(response_id),
        "actions": [{"type": "button", "action_id": action_id, "block_id": format!("aos_approval_actions:{approval_id}"),
                     "value": approval_id, "action_ts": "1700000001.000000"}]
    });
    form(&[("payload", &payload.to_string())])
}

fn blocks_text(value: &Value) -> String {
    value.to_string()
}

#[tokio::test]
async fn a_mention_grows_a_placeholder_into_the_final_answer_in_its_thread() {
    let llm = FakeOpenAi::start(vec![Reply::text_with_delay(
        &[
            "A cloud spend ",
            "anomaly is a day ",
            "more than 30% above ",
            "the trailing 14-day average [1]. ",
            "The FinOps team reviews it within two business days.",
        ],
        Duration::from_millis(450),
    )])
    .await;
    let slack = FakeSlack::start().await;
    let app = spawn_app_with(AppOptions {
        env: vec![
            ("OPENAI_BASE_URL".into(), llm.base_url.clone()),
            ("OPENAI_API_KEY".into(), "sk-e2e".into()),
            ("AOS_LLM_MODEL".into(), FAKE_MODEL.into()),
        ],
        ..Default::default()
    })
    .await;
    let setup = setup(&app, &slack, false).await;
    let res = app
        .client
        .post(app.url("/api/v1/knowledge/documents"))
        .bearer_auth(&setup.admin)
        .json(&json!({"title": "Cloud Cost Policy", "text": POLICY, "personas": ["cfo"]}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let (_, cfo_token) = linked_user(&app, &setup, "U0CFO", "approver", Some("cfo")).await;
    // The first edit is rate-limited: the bot must wait Retry-After (1 s).
    slack.rate_limit_next("chat.update", 1);

    let ts = "1712345678.000100";
    let started = Instant::now();
    let res = post_event(
        &app,
        &mention(
            "Ev0MENTION1",
            "U0CFO",
            "What counts as a cloud spend anomaly?",
            ts,
        ),
        None,
    )
    .await;
    let acked = started.elapsed();
    assert_eq!(expect_json(res, 200).await["ok"], true);
    assert!(
        acked < Duration::from_millis(2500),
        "acknowledged after {acked:?}"
    );

    let calls = slack
        .wait_for("the final answer", TURN_WAIT, |calls| {
            calls
                .iter()
                .any(|c| c.method == "chat.update" && blocks_text(&c.body).contains("persona"))
        })
        .await;
    // The placeholder, in the mention's thread.
    let posts: Vec<_> = calls
        .iter()
        .filter(|c| c.method == "chat.postMessage")
        .collect();
    assert_eq!(posts.len(), 1, "{posts:#?}");
    assert_eq!(posts[0].body["channel"], CHANNEL);
    assert_eq!(posts[0].body["thread_ts"], ts);
    assert!(posts[0].body["text"].as_str().unwrap().contains("Thinking"));
    // Then edits: at least one while writing, spaced by the throttle.
    let updates: Vec<_> = calls.iter().filter(|c| c.method == "chat.update").collect();
    let limited: Vec<_> = updates.iter().filter(|c| c.rate_limited).collect();
    assert_eq!(limited.len(), 1, "the scripted 429 was hit once");
    let retried = updates
        .iter()
        .find(|c| !c.rate_limited && c.at > limited[0].at)
        .expect("the edit was retried after the 429");
    assert!(
        retried.at - limited[0].at >= Duration::from_millis(950),
        "Retry-After honoured: retried after {:?}",
        retried.at - limited[0].at
    );
    let progress: Vec<_> = updates
        .iter()
        .filter(|c| !c.rate_limited && blocks_text(&c.body).contains("still writing"))
        .collect();
    assert!(!progress.is_empty(), "no progressive edit: {updates:#?}");
    for pair in progress.windows(2) {
        assert!(
            pair[1].at - pair[0].at >= Duration::from_millis(900),
            "edits closer than the throttle"
        );
    }
    // The message now holds the full answer, its sources and the persona.
    let messages = slack.messages();
    let answer = messages
        .iter()
        .find(|m| m.thread_ts.as_deref() == Some(ts))
        .unwrap();
    assert!(answer.updates >= 2, "{answer:?}");
    assert!(
        answer
            .text
            .contains("The FinOps team reviews it within two business days."),
        "{}",
        answer.text
    );
    assert!(
        answer.text.contains("30%") && answer.text.contains("[1]"),
        "{}",
        answer.text
    );
    let blocks = blocks_text(&answer.blocks);
    assert!(!blocks.contains("still writing"), "{blocks}");
    assert!(
        blocks.contains("Sources") && blocks.contains("Cloud Cost Policy"),
        "{blocks}"
    );
    assert!(blocks.contains("CFO"), "{blocks}");
    // The turn is the linked user's own conversation on the platform.
    let conversations = expect_json(
        app.client
            .get(app.url("/api/v1/conversations"))
            .bearer_auth(&cfo_token)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(conversations["conversations"].as_array().unwrap().len(), 1);

    // A follow-up in the same thread continues that conversation.
    let follow_up = json!({
        "team_id": TEAM, "type": "event_callback", "event_id": "Ev0MENTION2", "event_time": 1,
        "event": {"type": "app_mention", "user": "U0CFO", "text": "<@U0AOSBOT> and who reviews it?",
                  "channel": CHANNEL, "ts": "1712345699.000200", "thread_ts": ts}
    });
    assert_eq!(post_event(&app, &follow_up, None).await.status(), 200);
    slack
        .wait_for("the follow-up's placeholder", TURN_WAIT, |calls| {
            calls
                .iter()
                .filter(|c| c.method == "chat.postMessage")
                .count()
                == 2
        })
        .await;
    let conversations = expect_json(
        app.client
            .get(app.url("/api/v1/conversations"))
            .bearer_auth(&cfo_token)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(
        conversations["conversations"].as_array().unwrap().len(),
        1,
        "{conversations}"
    );
}

#[tokio::test]
async fn a_retried_event_is_answered_once_across_replicas() {
    let slack = FakeSlack::start().await;
    let app = spawn_app_with(AppOptions::default()).await;
    let replica = app.spawn_replica(Vec::new()).await;
    let setup = setup(&app, &slack, false).await;
    let (_, token) = linked_user(&app, &setup, "U0RETRY", "analyst", Some("cto")).await;
    let ts = "1712345000.000300";
    let event = mention("Ev0RETRIED", "U0RETRY", "what can you do?", ts);
    // The first delivery, Slack's retries to either replica, and a race.
    let (a, b, c) = tokio::join!(
        post_event(&app, &event, None),
        post_event(&replica, &event, Some(1)),
        post_event(&replica, &event, Some(2)),
    );
    let mut duplicates = 0;
    for res in [a, b, c] {
        let body = expect_json(res, 200).await;
        if body["duplicate"] == true {
            duplicates += 1;
        }
    }
    assert_eq!(duplicates, 2, "exactly one delivery is worked on");
    slack
        .wait_for("the answer", TURN_WAIT, |calls| {
            calls
                .iter()
                .any(|c| c.method == "chat.update" && blocks_text(&c.body).contains("intent"))
        })
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let placeholders = slack
        .calls_to("chat.postMessage")
        .into_iter()
        .filter(|c| c.body["thread_ts"] == ts)
        .count();
    assert_eq!(placeholders, 1, "answered once");
    let conversations = expect_json(
        app.client
            .get(app.url("/api/v1/conversations"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let listed = conversations["conversations"].as_array().unwrap();
    assert_eq!(listed.len(), 1);
    let detail = expect_json(
        app.client
            .get(app.url(&format!(
                "/api/v1/conversations/{}",
                listed[0]["id"].as_str().unwrap()
            )))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(
        detail["messages"].as_array().unwrap().len(),
        2,
        "one question, one answer"
    );
}

fn demo_root() -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo/platform");
    std::fs::canonicalize(root)
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[tokio::test]
async fn an_approval_clicked_in_slack_is_applied_once_and_reaches_web_clients() {
    let root = demo_root();
    let env = vec![("AOS_FILE_ROOTS".to_owned(), root.clone())];
    let slack = FakeSlack::start().await;
    let app = spawn_app_with(AppOptions {
        env: env.clone(),
        ..Default::default()
    })
    .await;
    let replica = app.spawn_replica(env).await;
    let setup = setup(&app, &slack, true).await;
    // A files connector the turn can sync.
    let mut db = app.superuser_connection().await;
    sqlx::query("insert into connectors (id, tenant_id, name, kind, config) values ($1, $2, 'ops-files', 'files', $3)")
        .bind(Uuid::new_v4())
        .bind(setup.tenant.id)
        .bind(json!({"path": format!("{root}/files")}))
        .execute(&mut db)
        .await
        .unwrap();
    linked_user(&app, &setup, "U0ANALYST", "analyst", Some("cto")).await;
    let (approver_id, _) = linked_user(&app, &setup, "U0APPROVER", "approver", None).await;
    linked_user(&app, &setup, "U0VIEWER", "viewer", None).await;
    // A web client of the same tenant, on the other replica.
    let mut web = e2e::ws::ChatSocket::connect(&replica.base, &setup.admin).await;
    web.ping().await;

    let ts = "1712349999.000400";
    let res = post_event(
        &app,
        &mention(
            "Ev0SYNC",
            "U0ANALYST",
            "sync the ops-files connector now",
            ts,
        ),
        None,
    )
    .await;
    assert_eq!(res.status(), 200);
    // The turn raises an approval: a card with buttons in the thread.
    let calls = slack
        .wait_for("the approval card", TURN_WAIT, |calls| {
            calls.iter().any(|c| {
                c.method == "chat.postMessage"
                    && blocks_text(&c.body).contains("aos_approval_approve")
            })
        })
        .await;
    let card = calls
        .iter()
        .find(|c| {
            c.method == "chat.postMessage" && blocks_text(&c.body).contains("aos_approval_approve")
        })
        .unwrap();
    assert_eq!(card.body["thread_ts"], ts);
    let actions = card.body["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "actions")
        .unwrap();
    let approval_id = actions["elements"][0]["value"].as_str().unwrap().to_owned();
    assert_eq!(actions["elements"][1]["action_id"], "aos_approval_reject");
    // The tenant's webhook heard of it once, though two replicas run.
    slack
        .wait_for("the webhook notification", TURN_WAIT, |calls| {
            calls
                .iter()
                .any(|c| c.method == "webhook" && blocks_text(&c.body).contains(&approval_id))
        })
        .await;

    // A viewer's click is refused, with an explanation only they see.
    let res = post_signed(
        &app,
        "/slack/interactions",
        SECRET,
        &click(
            &slack,
            "U0VIEWER",
            "aos_approval_approve",
            &approval_id,
            "viewer",
        ),
        "application/x-www-form-urlencoded",
        None,
    )
    .await;
    assert_eq!(res.status(), 200);
    let calls = slack
        .wait_for("the viewer's explanation", TURN_WAIT, |calls| {
            calls
                .iter()
                .any(|c| c.method == "response_url" && c.target == "viewer")
        })
        .await;
    let refusal = calls.iter().find(|c| c.target == "viewer").unwrap();
    assert_eq!(refusal.body["response_type"], "ephemeral");
    assert_eq!(refusal.body["replace_original"], false);
    assert!(
        refusal.body["text"].as_str().unwrap().contains("approver"),
        "{}",
        refusal.body
    );
    // Someone Slack knows but AutonomOS does not is told how to get linked.
    let res = post_signed(
        &app,
        "/slack/interactions",
        SECRET,
        &click(
            &slack,
            "U0STRANGER",
            "aos_approval_approve",
            &approval_id,
            "stranger",
        ),
        "application/x-www-form-urlencoded",
        None,
    )
    .await;
    assert_eq!(res.status(), 200);
    slack
        .wait_for("the stranger's explanation", TURN_WAIT, |calls| {
            calls.iter().any(|c| {
                c.target == "stranger"
                    && c.body["text"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("map-user")
            })
        })
        .await;
    let pending = expect_json(
        app.client
            .get(app.url(&format!("/api/v1/approvals/{approval_id}")))
            .bearer_auth(&setup.admin)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(pending["status"], "pending");

    // The approver double-clicks, on both replicas at once: applied once.
    let first = click(
        &slack,
        "U0APPROVER",
        "aos_approval_approve",
        &approval_id,
        "approver-1",
    );
    let second = click(
        &slack,
        "U0APPROVER",
        "aos_approval_approve",
        &approval_id,
        "approver-2",
    );
    let (a, b) = tokio::join!(
        post_signed(
            &app,
            "/slack/interactions",
            SECRET,
            &first,
            "application/x-www-form-urlencoded",
            None
        ),
        post_signed(
            &replica,
            "/slack/interactions",
            SECRET,
            &second,
            "application/x-www-form-urlencoded",
            None
        ),
    );
    assert_eq!(a.status(), 200);
    assert_eq!(b.status(), 200);
    let calls = slack
        .wait_for("both clicks answered", TURN_WAIT, |calls| {
            calls
                .iter()
                .filter(|c| c.target.starts_with("approver-"))
                .count()
                == 2
        })
        .await;
    let answers: Vec<_> = calls
        .iter()
        .filter(|c| c.target.starts_with("approver-"))
        .collect();
    let replaced: Vec<_> = answers
        .iter()
        .filter(|c| c.body["replace_original"] == true)
        .collect();
    assert_eq!(replaced.len(), 1, "one click decided: {answers:#?}");
    let outcome = blocks_text(&replaced[0].body);
    assert!(
        outcome.contains("Approved") && !outcome.contains("aos_approval_approve"),
        "{outcome}"
    );
    let other = answers
        .iter()
        .find(|c| c.body["replace_original"] == false)
        .unwrap();
    assert!(
        other.body["text"]
            .as_str()
            .unwrap()
            .contains("already decided"),
        "{}",
        other.body
    );

    // The web client on the other replica sees the decision.
    let decided = web.read_until(|e| e["type"] == "approval.decided").await;
    let event = decided.last().unwrap();
    assert_eq!(event["approval_id"], approval_id.as_str());
    assert_eq!(event["by"], approver_id.to_string());
    // Decided once, by the approver, and audited once.
    let approval = expect_json(
        app.client
            .get(app.url(&format!("/api/v1/approvals/{approval_id}")))
            .bearer_auth(&setup.admin)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert!(
        ["executed", "approved"].contains(&approval["status"].as_str().unwrap()),
        "{approval}"
    );
    assert_eq!(
        approval["decided_by"],
        json!({"kind": "user", "id": approver_id}),
        "{approval}"
    );
    let (decisions,): (i64,) = sqlx::query_as(
        "select count(*) from audit_log where action in ('approval.approve', 'approval.reject') and target_id = $1",
    )
    .bind(&approval_id)
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(decisions, 1);
    // The card in the thread shows the outcome, and the answer continues.
    let card_ts = card_ts(&slack, &approval_id);
    slack
        .wait_for("the card marked decided", TURN_WAIT, |calls| {
            calls.iter().any(|c| {
                c.method == "chat.update"
                    && c.body["ts"] == card_ts.as_str()
                    && blocks_text(&c.body).contains("Approved")
            })
        })
        .await;
    slack
        .wait_for("the answer after the decision", TURN_WAIT, |calls| {
            calls.iter().any(|c| {
                c.method == "chat.update"
                    && c.body["ts"] != card_ts.as_str()
                    && blocks_text(&c.body).contains("persona")
            })
        })
        .await;
    let webhooks = slack
        .calls_to("webhook")
        .into_iter()
        .filter(|c| blocks_text(&c.body).contains(&approval_id))
        .count();
    assert_eq!(webhooks, 1, "notified once across replicas");
}

/// The `ts` of the card message holding `approval_id`'s buttons.
fn card_ts(slack: &FakeSlack, approval_id: &str) -> String {
    slack
        .messages()
        .into_iter()
        .find(|m| m.thread_ts.is_some() && blocks_text(&m.blocks).contains(approval_id))
        .map(|m| m.ts)
        .expect("the card message")
}

#[tokio::test]
async fn the_slash_command_answers_through_response_url_and_lists_approvals() {
    let root = demo_root();
    let slack = FakeSlack::start().await;
    let app = spawn_app_with(AppOptions {
        env: vec![("AOS_FILE_ROOTS".into(), root.clone())],
        ..Default::default()
    })
    .await;
    let setup = setup(&app, &slack, false).await;
    let (_, analyst) = linked_user(&app, &setup, "U0ANALYST", "analyst", Some("cto")).await;
    linked_user(&app, &setup, "U0APPROVER", "approver", None).await;
    linked_user(&app, &setup, "U0VIEWER", "viewer", None).await;
    let command = |user: &str, text: &str, response: &str| {
        form(&[
            ("token", "legacy-unused"),
            ("team_id", TEAM),
            ("team_domain", "e2e"),
            ("channel_id", CHANNEL),
            ("channel_name", "finance"),
            ("user_id", user),
            ("user_name", "someone"),
            ("command", "/aos"),
            ("text", text),
            ("api_app_id", "A0E2EAPP"),
            ("response_url", &slack.response_url(response)),
            ("trigger_id", &format!("{response}.1.2")),
        ])
    };
    let send = |body: String| {
        let app = &app;
        async move {
            post_signed(
                app,
                "/slack/commands",
                SECRET,
                &body,
                "application/x-www-form-urlencoded",
                None,
            )
            .await
        }
    };

    // A question: acknowledged at once, answered through response_url.
    let ack = expect_json(
        send(command("U0ANALYST", "what can you do?", "question")).await,
        200,
    )
    .await;
    assert_eq!(ack["response_type"], "ephemeral");
    assert!(
        ack["text"].as_str().unwrap().contains("Working on it"),
        "{ack}"
    );
    let calls = slack
        .wait_for("the answer", TURN_WAIT, |calls| {
            calls.iter().any(|c| c.target == "question")
        })
        .await;
    let answer = calls.iter().find(|c| c.target == "question").unwrap();
    assert_eq!(answer.body["replace_original"], true);
    assert!(
        blocks_text(&answer.body["blocks"]).contains("persona"),
        "{}",
        answer.body
    );
    assert!(!answer.body["text"].as_str().unwrap().is_empty());

    // Nothing waits yet; then an analyst asks for an action.
    let none = expect_json(
        send(command("U0APPROVER", "approvals", "list-0")).await,
        200,
    )
    .await;
    assert!(
        none["text"]
            .as_str()
            .unwrap()
            .contains("Nothing is waiting"),
        "{none}"
    );
    let requested = expect_json(
        app.client
            .post(app.url("/api/v1/tools/run_discovery/invoke"))
            .bearer_auth(&analyst)
            .json(&json!({"arguments": {"files_path": format!("{root}/files")}}))
            .send()
            .await
            .unwrap(),
        202,
    )
    .await;
    let approval_id = requested["approval"]["id"].as_str().unwrap().to_owned();
    // The approver sees it with its buttons; a viewer, who cannot decide, does not.
    let listed = expect_json(
        send(command("U0APPROVER", "approvals", "list-1")).await,
        200,
    )
    .await;
    assert_eq!(listed["response_type"], "ephemeral");
    let blocks = blocks_text(&listed["blocks"]);
    assert!(
        blocks.contains(&approval_id) && blocks.contains("aos_approval_approve"),
        "{listed}"
    );
    let viewer = expect_json(send(command("U0VIEWER", "approvals", "list-2")).await, 200).await;
    assert!(
        viewer["text"]
            .as_str()
            .unwrap()
            .contains("Nothing is waiting"),
        "{viewer}"
    );
    // Someone not linked is told how to get linked; help needs no link.
    let stranger = expect_json(
        send(command("U0STRANGER", "what is our spend?", "s")).await,
        200,
    )
    .await;
    assert!(
        stranger["text"]
            .as_str()
            .unwrap()
            .contains("aos slack map-user"),
        "{stranger}"
    );
    assert!(
        stranger["text"].as_str().unwrap().contains("U0STRANGER"),
        "{stranger}"
    );
    let help = expect_json(send(command("U0STRANGER", "", "h")).await, 200).await;
    assert!(
        help["text"].as_str().unwrap().contains("/aos approvals"),
        "{help}"
    );
    // A mention from someone not linked gets the same advice in its thread.
    let res = post_event(
        &app,
        &mention("Ev0STRANGER", "U0STRANGER", "hi", "1712340000.000900"),
        None,
    )
    .await;
    assert_eq!(res.status(), 200);
    slack
        .wait_for("the advice in the thread", TURN_WAIT, |calls| {
            calls.iter().any(|c| {
                c.method == "chat.postMessage"
                    && c.body["thread_ts"] == "1712340000.000900"
                    && c.body["text"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("map-user")
            })
        })
        .await;
}

#[tokio::test]
async fn unsigned_forged_or_malformed_requests_are_refused_and_change_nothing() {
    let slack = FakeSlack::start().await;
    let app = spawn_app_with(AppOptions::default()).await;
    let setup = setup(&app, &slack, false).await;
    linked_user(&app, &setup, "U0CFO", "approver", Some("cfo")).await;
    // Another tenant's workspace, with its own secret.
    let other = app.seed_tenant("Otherco").await;
    let other_id = other.id.to_string();
    let other_secret = "another-workspace-secret-abcdef012345";
    aos(
        &app,
        &[
            "slack",
            "add",
            "--tenant",
            &other_id,
            "--team-id",
            "T0OTHER",
            "--signing-secret",
            other_secret,
            "--bot-token",
            BOT_TOKEN,
            "--api-base",
            &slack.api_base(),
        ],
    )
    .await;

    let event = mention(
        "Ev0FORGED",
        "U0CFO",
        "what is our cloud spend?",
        "1712345111.000500",
    );
    let body = event.to_string();
    let post = |headers: Vec<(&'static str, String)>, body: String| {
        let app = &app;
        async move {
            let mut request = app
                .client
                .post(app.url("/slack/events"))
                .header("content-type", "application/json")
                .body(body);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            request.send().await.unwrap()
        }
    };
    let ts = fake_slack::now();
    let good_sig = fake_slack::sign(SECRET, &ts, &body);
    // Missing headers.
    let res = post(vec![], body.clone()).await;
    assert_eq!(expect_error(res, 401).await, "unauthorized");
    let res = post(vec![("x-slack-signature", good_sig.clone())], body.clone()).await;
    assert_eq!(expect_error(res, 401).await, "unauthorized");
    let res = post(
        vec![("x-slack-request-timestamp", ts.clone())],
        body.clone(),
    )
    .await;
    assert_eq!(expect_error(res, 401).await, "unauthorized");
    // A tampered body (signed for the original).
    let tampered = body.replace("cloud spend", "payroll");
    let res = post(
        vec![
            ("x-slack-request-timestamp", ts.clone()),
            ("x-slack-signature", good_sig.clone()),
        ],
        tampered,
    )
    .await;
    assert_eq!(expect_error(res, 401).await, "unauthorized");
    // A stale timestamp, correctly signed.
    let stale = (chrono::Utc::now().timestamp() - 6 * 60).to_string();
    let res = post(
        vec![
            ("x-slack-request-timestamp", stale.clone()),
            ("x-slack-signature", fake_slack::sign(SECRET, &stale, &body)),
        ],
        body.clone(),
    )
    .await;
    assert_eq!(expect_error(res, 401).await, "unauthorized");
    // A wrong secret, and another workspace's secret.
    for secret in ["not-the-signing-secret-at-all-0000", other_secret] {
        let res = post_signed(
            &app,
            "/slack/events",
            secret,
            &body,
            "application/json",
            None,
        )
        .await;
        assert_eq!(expect_error(res, 401).await, "unauthorized");
    }
    // A team no tenant registered.
    let unknown = body.replace(TEAM, "T0NOBODY");
    let res = post_signed(
        &app,
        "/slack/events",
        SECRET,
        &unknown,
        "application/json",
        None,
    )
    .await;
    assert_eq!(expect_error(res, 401).await, "unauthorized");
    // The same forgeries on the other endpoints.
    let payload = click(
        &slack,
        "U0CFO",
        "aos_approval_approve",
        &Uuid::new_v4().to_string(),
        "forged",
    );
    let res = post_signed(
        &app,
        "/slack/interactions",
        other_secret,
        &payload,
        "application/x-www-form-urlencoded",
        None,
    )
    .await;
    assert_eq!(expect_error(res, 401).await, "unauthorized");
    let command = form(&[
        ("team_id", TEAM),
        ("user_id", "U0CFO"),
        ("command", "/aos"),
        ("text", "approvals"),
        ("response_url", &slack.response_url("forged")),
    ]);
    let res = post_signed(
        &app,
        "/slack/commands",
        other_secret,
        &command,
        "application/x-www-form-urlencoded",
        None,
    )
    .await;
    assert_eq!(expect_error(res, 401).await, "unauthorized");
    let res = app
        .client
        .post(app.url("/slack/commands"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(command.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(res, 401).await, "unauthorized");

    // Malformed, though signed: 4xx with the API's error shape.
    let res = post_signed(
        &app,
        "/slack/events",
        SECRET,
        "{not json",
        "application/json",
        None,
    )
    .await;
    assert_eq!(expect_error(res, 400).await, "bad_request");
    let res = post_signed(
        &app,
        "/slack/events",
        SECRET,
        &json!({"type": "event_callback", "team_id": TEAM}).to_string(),
        "application/json",
        None,
    )
    .await;
    assert_eq!(expect_error(res, 400).await, "bad_request");
    let res = post_signed(
        &app,
        "/slack/interactions",
        SECRET,
        "nothing=here",
        "application/x-www-form-urlencoded",
        None,
    )
    .await;
    assert_eq!(expect_error(res, 400).await, "bad_request");
    let res = post_signed(
        &app,
        "/slack/interactions",
        SECRET,
        &form(&[("payload", "{oops")]),
        "application/x-www-form-urlencoded",
        None,
    )
    .await;
    assert_eq!(expect_error(res, 400).await, "bad_request");
    let res = post_signed(
        &app,
        "/slack/commands",
        SECRET,
        "team_id=T0E2ETEAM",
        "application/x-www-form-urlencoded",
        None,
    )
    .await;
    assert_eq!(expect_error(res, 400).await, "bad_request");
    let bad_button = click(&slack, "U0CFO", "aos_approval_approve", "not-a-uuid", "bad");
    let res = post_signed(
        &app,
        "/slack/interactions",
        SECRET,
        &bad_button,
        "application/x-www-form-urlencoded",
        None,
    )
    .await;
    assert_eq!(expect_error(res, 422).await, "validation_error");
    let huge = format!(
        "{{\"type\":\"event_callback\",\"pad\":\"{}\"}}",
        "x".repeat(300 * 1024)
    );
    let res = post_signed(
        &app,
        "/slack/events",
        SECRET,
        &huge,
        "application/json",
        None,
    )
    .await;
    assert_eq!(expect_error(res, 413).await, "payload_too_large");

    // Nothing reached Slack, and the refused event id was not used up.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(slack.calls().is_empty(), "{:#?}", slack.calls());
    let res = post_event(&app, &event, None).await;
    let accepted = expect_json(res, 200).await;
    assert_eq!(accepted["ok"], true);
    assert!(accepted.get("duplicate").is_none(), "{accepted}");

    // Slack's URL check answers the challenge only when signed.
    let challenge = json!({"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"}).to_string();
    let res = post_signed(
        &app,
        "/slack/events",
        SECRET,
        &challenge,
        "application/json",
        None,
    )
    .await;
    assert_eq!(
        expect_json(res, 200).await["challenge"],
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    );
    let res = post_signed(
        &app,
        "/slack/events",
        "wrong-secret-for-the-challenge-000",
        &challenge,
        "application/json",
        None,
    )
    .await;
    assert_eq!(expect_error(res, 401).await, "unauthorized");

    // Secrets are stored sealed and never shown; only admins manage Slack.
    let mut db = app.superuser_connection().await;
    let rows: Vec<(String, String)> =
        sqlx::query_as("select signing_secret_enc, bot_token_enc from slack_workspaces")
            .fetch_all(&mut db)
            .await
            .unwrap();
    assert_eq!(rows.len(), 2);
    for (secret, token) in rows {
        assert!(
            secret.starts_with("v1.") && !secret.contains(SECRET) && !secret.contains(other_secret)
        );
        assert!(token.starts_with("v1.") && !token.contains("xoxb"));
    }
    let listed = expect_json(
        app.client
            .get(app.url("/api/v1/slack/workspaces"))
            .bearer_auth(&setup.admin)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(
        listed["workspaces"].as_array().unwrap().len(),
        1,
        "only the caller's tenant: {listed}"
    );
    assert_eq!(listed["workspaces"][0]["team_id"], TEAM);
    assert!(
        !listed.to_string().contains(SECRET) && !listed.to_string().contains("xoxb"),
        "{listed}"
    );
    let (_, viewer) = app.user_with_role(&setup.admin, "viewer").await;
    let res = app
        .client
        .get(app.url("/api/v1/slack/workspaces"))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(res, 403).await, "forbidden");
    // Registering another tenant's team is a conflict; bad input is a 422.
    let res = app
        .client
        .post(app.url("/api/v1/slack/workspaces"))
        .bearer_auth(&setup.admin)
        .json(&json!({"team_id": "T0OTHER", "signing_secret": "0123456789abcdef", "bot_token": "xoxb-x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(res, 409).await, "conflict");
    let res = app
        .client
        .post(app.url("/api/v1/slack/workspaces"))
        .bearer_auth(&setup.admin)
        .json(&json!({"team_id": "lower", "signing_secret": "0123456789abcdef", "bot_token": "xoxb-x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(res, 422).await, "validation_error");
    let res = app
        .client
        .put(app.url("/api/v1/slack/users"))
        .bearer_auth(&setup.admin)
        .json(
            &json!({"team_id": TEAM, "slack_user_id": "U0GHOST", "email": "ghost@nowhere.example"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(res, 404).await, "not_found");
    // The command line links users too; the admin API lists the links.
    let tenant_id = setup.tenant.id.to_string();
    let linked: Uuid = aos(
        &app,
        &[
            "slack",
            "map-user",
            "--tenant",
            &tenant_id,
            "--team-id",
            TEAM,
            "--slack-user",
            "U0CLI",
            "--email",
            &setup.tenant.admin_email,
        ],
    )
    .await
    .parse()
    .unwrap();
    let links = expect_json(
        app.client
            .get(app.url("/api/v1/slack/users"))
            .bearer_auth(&setup.admin)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let cli_link = links["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["slack_user_id"] == "U0CLI")
        .unwrap();
    assert_eq!(cli_link["user_id"], linked.to_string());
    assert_eq!(cli_link["email"], setup.tenant.admin_email.as_str());
    // Nor can a Slack user be linked to another tenant's user.
    let other_admin = app.admin_token(&other).await;
    let me = expect_json(
        app.client
            .get(app.url("/api/v1/me"))
            .bearer_auth(&other_admin)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let res = app
        .client
        .put(app.url("/api/v1/slack/users"))
        .bearer_auth(&setup.admin)
        .json(&json!({"team_id": TEAM, "slack_user_id": "U0SPY", "user_id": me["user"]["id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(res, 404).await, "not_found");
}

#[tokio::test]
async fn the_acknowledgement_benchmark_runs_against_a_server() {
    let app = spawn_app_with(AppOptions::default()).await;
    let out = aos(
        &app,
        &["bench", "slack-ack", "--url", &app.base, "--requests", "40"],
    )
    .await;
    assert!(
        out.contains("events answered: 40 of 40 (each once: yes)"),
        "{out}"
    );
    assert!(out.contains("| first deliveries | 40 | 0 | 0 |"), "{out}");
    assert!(
        out.contains("| retries (X-Slack-Retry-Num: 1) | 40 | 40 | 0 |"),
        "{out}"
    );
}
