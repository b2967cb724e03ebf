//! Connector sync jobs through the worker: the worker runs them with
//! `connectors::execute_sync_run`, and gives up on one delivered too often.

use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;
use tools::connectors::{self, ConnectorKind, NewConnector};
use tools::{Actor, Role};
use uuid::Uuid;

use super::worker::{deliver_to_dead_workers, queue_state, spawn_worker};
use crate::support::TestPlatform;

/// A folder with one small CSV file, and a platform allowed to read it.
async fn platform_with_files() -> (TestPlatform, PathBuf) {
    let dir = std::env::temp_dir().join(format!("aos-sync-job-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("budgets.csv"),
        "month,account_id,budget_usd\n2026-11-01,prod,1000\n",
    )
    .unwrap();
    let tp = TestPlatform::new(vec![dir.clone()]).await;
    (tp, dir)
}

async fn queue_sync(tp: &TestPlatform, dir: &std::path::Path) -> Uuid {
    let connector = connectors::create(
        &tp.platform,
        tp.tenant,
        Actor::User(tp.user(Role::Admin)),
        NewConnector {
            name: "budgets".into(),
            kind: ConnectorKind::Files,
            config: json!({"path": dir}),
        },
    )
    .await
    .unwrap();
    connectors::queue_sync(&tp.platform, tp.tenant, connector.id, None)
        .await
        .unwrap()
        .id
}

/// Polls the sync run until it leaves `queued` and `running`, for at most 15 s.
async fn finished_sync(tp: &TestPlatform, run_id: Uuid) -> (String, Value) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let mut tx = tools::begin_tenant(&tp.pool, tp.tenant).await.unwrap();
        let (status, errors): (String, Value) =
            sqlx::query_as("select status, errors from sync_runs where id = $1")
                .bind(run_id)
                .fetch_one(&mut *tx)
                .await
                .unwrap();
        if status != "queued" && status != "running" {
            return (status, errors);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "sync {run_id} stuck {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_worker_runs_a_queued_sync() {
    let (tp, dir) = platform_with_files().await;
    let run_id = queue_sync(&tp, &dir).await;
    let worker = spawn_worker(&tp, "worker-1", Duration::from_secs(5));
    let (status, errors) = finished_sync(&tp, run_id).await;
    assert_eq!(status, "succeeded", "{errors}");
    worker.stop().await;
    assert_eq!(queue_state(&tp).await, (0, 0));
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_sync_job_delivered_too_often_is_marked_failed() {
    let (tp, dir) = platform_with_files().await;
    let run_id = queue_sync(&tp, &dir).await;
    deliver_to_dead_workers(&tp, 3).await;
    let worker = spawn_worker(&tp, "worker-4", Duration::from_millis(200));
    let (status, errors) = finished_sync(&tp, run_id).await;
    assert_eq!(status, "failed");
    assert_eq!(
        errors,
        json!([{"error": "gave up after 3 deliveries: the workers running it stopped before it finished"}])
    );
    worker.stop().await;
    assert_eq!(queue_state(&tp).await, (0, 0));
    std::fs::remove_dir_all(dir).unwrap();
}
