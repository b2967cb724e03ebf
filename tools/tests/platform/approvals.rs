//! Tests of the approval mechanism itself, whatever the action: one approval
//! per pending request, idempotency keys, expiry, role and persona limits,
//! every call recorded, and decisions announced to every replica.

use futures::StreamExt;
use personas::Persona;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tools::{Decision, InvokeOptions, PlatformEvent, Role, ToolError};
use uuid::Uuid;

use crate::support::TestPlatform;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/discovery")
}

async fn platform() -> TestPlatform {
    TestPlatform::new(vec![fixtures()]).await
}

fn scan_args() -> serde_json::Value {
    json!({"files_path": fixtures().to_string_lossy()})
}

async fn request(tp: &TestPlatform, key: Option<&str>) -> tools::Approval {
    let options = InvokeOptions {
        idempotency_key: key.map(str::to_owned),
    };
    match tp
        .registry
        .invoke(
            &tp.ctx(Role::Analyst),
            "run_discovery",
            scan_args(),
            options,
        )
        .await
    {
        Err(ToolError::NeedsApproval(approval)) => *approval,
        other => panic!("expected an approval, got {other:?}"),
    }
}

#[tokio::test]
async fn the_same_request_finds_the_same_approval() {
    let tp = platform().await;
    let first = request(&tp, None).await;
    let again = request(&tp, None).await;
    assert_eq!(
        first.id, again.id,
        "one pending approval per identical request"
    );
    let keyed = request(&tp, Some("client-42")).await;
    assert_eq!(
        keyed.id, first.id,
        "an identical pending request, whatever its key"
    );
    tp.registry
        .decide(
            &tp.ctx(Role::Approver),
            first.id,
            Decision::Reject,
            Some("not now"),
        )
        .await
        .unwrap();
    // Once decided, the same key still names that approval; a new request without
    // a key is a new approval.
    let replay = request(&tp, Some("client-42")).await;
    assert_eq!(replay.id, first.id);
    let fresh = request(&tp, None).await;
    assert_ne!(fresh.id, first.id);
}

#[tokio::test]
async fn an_expired_approval_cannot_be_decided() {
    let tp = platform().await;
    let approval = request(&tp, None).await;
    let mut tx = tools::begin_tenant(&tp.pool, tp.tenant).await.unwrap();
    sqlx::query("update approvals set expires_at = now() - interval '1 second' where id = $1")
        .bind(approval.id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let refused = tp
        .registry
        .decide(&tp.ctx(Role::Admin), approval.id, Decision::Approve, None)
        .await;
    match refused {
        Err(tools::DecideError::AlreadyDecided(now)) => {
            assert_eq!(now.status, tools::ApprovalStatus::Expired)
        }
        other => panic!("expected expired, got {other:?}"),
    }
    let mut tx = tools::begin_tenant(&tp.pool, tp.tenant).await.unwrap();
    let runs: i64 = sqlx::query_scalar("select count(*) from discovery_runs")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(runs, 0, "nothing ran");
}

#[tokio::test]
async fn roles_and_personas_limit_who_may_call_what() {
    let tp = platform().await;
    let viewer = tp
        .registry
        .invoke(
            &tp.ctx(Role::Viewer),
            "run_discovery",
            scan_args(),
            InvokeOptions::default(),
        )
        .await;
    assert!(matches!(viewer, Err(ToolError::Denied(_))), "{viewer:?}");
    let cro = tp
        .registry
        .invoke(
            &tp.ctx_as(Role::Admin, Some(Persona::Cro)),
            "list_shadow_it",
            json!({}),
            InvokeOptions::default(),
        )
        .await;
    assert!(matches!(cro, Err(ToolError::Denied(_))), "{cro:?}");
    let listed: Vec<&str> = tp
        .registry
        .available_to(&tp.ctx_as(Role::Viewer, Some(Persona::Cfo)))
        .map(|s| s.name)
        .collect();
    assert!(listed.contains(&"list_shadow_it") && !listed.contains(&"run_discovery"));
}

#[tokio::test]
async fn every_call_is_recorded_with_its_outcome() {
    let tp = platform().await;
    let ctx = tp.ctx(Role::Analyst);
    let bad = tp
        .registry
        .invoke(
            &ctx,
            "search_assets",
            json!({"limit": "lots"}),
            InvokeOptions::default(),
        )
        .await;
    assert!(matches!(bad, Err(ToolError::BadArgs(_))));
    let approval = request(&tp, None).await;
    let unknown = tp
        .registry
        .invoke(&ctx, "no_such_tool", json!({}), InvokeOptions::default())
        .await;
    assert!(matches!(unknown, Err(ToolError::NotFound(_))));
    let mut tx = tools::begin_tenant(&tp.pool, tp.tenant).await.unwrap();
    let rows: Vec<(String, String, Option<Uuid>, Option<Uuid>)> = sqlx::query_as(
        "select tool, outcome, approval_id, actor_user_id from tool_calls order by created_at",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    let analyst = Some(tp.user(Role::Analyst));
    assert_eq!(
        rows,
        vec![
            ("search_assets".into(), "bad_args".into(), None, analyst),
            (
                "run_discovery".into(),
                "needs_approval".into(),
                Some(approval.id),
                analyst
            ),
            ("no_such_tool".into(), "bad_args".into(), None, analyst),
        ]
    );
}

#[tokio::test]
async fn decisions_are_announced_to_every_replica() {
    let tp = platform().await;
    let approval = request(&tp, None).await;
    let client = redis::Client::open(std::env::var("REDIS_URL").unwrap()).unwrap();
    let mut pubsub = client.get_async_pubsub().await.unwrap();
    pubsub
        .subscribe(tp.platform.events_channel(tp.tenant))
        .await
        .unwrap();
    let decided = tp
        .registry
        .decide(
            &tp.ctx(Role::Approver),
            approval.id,
            Decision::Approve,
            None,
        )
        .await
        .unwrap();
    assert_eq!(decided.status, tools::ApprovalStatus::Executed);
    let mut messages = pubsub.on_message();
    let message = tokio::time::timeout(Duration::from_secs(5), messages.next())
        .await
        .expect("an announcement within 5 s")
        .unwrap();
    let event: PlatformEvent =
        serde_json::from_str(&message.get_payload::<String>().unwrap()).unwrap();
    match event {
        PlatformEvent::ApprovalDecided {
            approval_id,
            status,
            decided_by,
            ..
        } => {
            assert_eq!(approval_id, approval.id);
            assert_eq!(status, tools::ApprovalStatus::Executed);
            assert_eq!(decided_by, Some(tp.user(Role::Approver)));
        }
        other => panic!("unexpected event {other:?}"),
    }
}
