//! Real workers on real Redis: a job runs, a job whose worker died is taken
//! over, a live job is not, a job delivered too often is given up.

use serde_json::{Value, json};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tools::agents::{self, Agent, RunParameters};
use tools::jobs::{self, WorkerError, WorkerOptions};
use tools::{Actor, Role};
use uuid::Uuid;

use super::data::{FINOPS_HEADLINE, finops_data, ops_data};
use super::{invoke, run_row, wait_for_run};
use crate::support::TestPlatform;

pub(super) fn redis_client() -> redis::Client {
    redis::Client::open(std::env::var("REDIS_URL").unwrap()).unwrap()
}

pub(super) struct Worker {
    handle: JoinHandle<Result<(), WorkerError>>,
    stop: oneshot::Sender<()>,
}

pub(super) fn spawn_worker(tp: &TestPlatform, consumer: &str, claim_idle: Duration) -> Worker {
    let mut options = WorkerOptions::new(consumer, redis_client());
    options.claim_idle = claim_idle;
    options.block = Duration::from_millis(200);
    options.shutdown_grace = Duration::from_secs(5);
    let (stop, stopped) = oneshot::channel::<()>();
    let handle = tokio::spawn(jobs::run_worker(tp.platform.clone(), options, async {
        let _ = stopped.await;
    }));
    Worker { handle, stop }
}

impl Worker {
    pub(super) async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(10), self.handle)
            .await
            .expect("the worker stops")
            .expect("the worker task")
            .expect("the worker ends cleanly");
    }

    /// Kills the worker as a crash would: its running jobs stop where they are.
    pub(super) async fn kill(self) {
        self.handle.abort();
        let _ = self.handle.await;
    }
}

pub(super) async fn redis_cmd<T: redis::FromRedisValue>(
    tp: &TestPlatform,
    cmd: &mut redis::Cmd,
) -> T {
    let mut conn = tp.platform.redis.clone();
    cmd.query_async(&mut conn).await.unwrap()
}

/// Jobs delivered and not acknowledged, and jobs still in the stream.
pub(super) async fn queue_state(tp: &TestPlatform) -> (i64, i64) {
    let stream = tp.platform.jobs_stream();
    let summary: redis::Value =
        redis_cmd(tp, redis::cmd("XPENDING").arg(&stream).arg("workers")).await;
    let pending = match summary {
        redis::Value::Array(items) => match items.first() {
            Some(redis::Value::Int(n)) => *n,
            _ => 0,
        },
        _ => 0,
    };
    let length: i64 = redis_cmd(tp, redis::cmd("XLEN").arg(&stream)).await;
    (pending, length)
}

pub(super) async fn create_group(tp: &TestPlatform) {
    let _: redis::Value = redis_cmd(
        tp,
        redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(tp.platform.jobs_stream())
            .arg("workers")
            .arg("0")
            .arg("MKSTREAM"),
    )
    .await;
}

/// Has `times` consumers in turn take the first job and die with it, so the
/// group has delivered it `times` times.
pub(super) async fn deliver_to_dead_workers(tp: &TestPlatform, times: usize) {
    create_group(tp).await;
    let stream = tp.platform.jobs_stream();
    let _: redis::Value = redis_cmd(
        tp,
        redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg("workers")
            .arg("dead-1")
            .arg("COUNT")
            .arg(1)
            .arg("STREAMS")
            .arg(&stream)
            .arg(">"),
    )
    .await;
    for n in 2..=times {
        let _: redis::Value = redis_cmd(
            tp,
            redis::cmd("XAUTOCLAIM")
                .arg(&stream)
                .arg("workers")
                .arg(format!("dead-{n}"))
                .arg(0)
                .arg("0-0"),
        )
        .await;
    }
}

/// A transaction that holds every read of canonical records until dropped,
/// so a run stalls in its first query for as long as the test likes.
async fn stall_analyses(tp: &TestPlatform) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let admin = sqlx::PgPool::connect(&tp.admin_url).await.unwrap();
    let mut tx = admin.begin().await.unwrap();
    sqlx::query("lock table canonical_records in access exclusive mode")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx
}

#[tokio::test]
async fn run_agent_returns_the_result_a_running_worker_computed() {
    let tp = TestPlatform::new(vec![]).await;
    finops_data(&tp).await;
    let (_events_conn, mut events) = subscribe(&tp).await;
    let worker = spawn_worker(&tp, "worker-1", Duration::from_secs(5));

    let out = invoke(
        &tp,
        &tp.ctx(Role::Analyst),
        "run_agent",
        json!({"agent": "finops", "wait_seconds": 30}),
    )
    .await
    .unwrap();
    assert_eq!(out.summary, FINOPS_HEADLINE);
    assert_eq!(out.data["status"], "succeeded");
    let run_id: Uuid = serde_json::from_value(out.data["run_id"].clone()).unwrap();
    let row = run_row(&tp, run_id).await;
    assert_eq!(
        (row.status.as_str(), row.attempts, row.progress),
        ("succeeded", 1, 100)
    );
    assert_eq!(row.worker.as_deref(), Some("worker-1"));

    let status = invoke(
        &tp,
        &tp.ctx(Role::Viewer),
        "agent_status",
        json!({"run_id": run_id}),
    )
    .await
    .unwrap();
    assert_eq!(
        status.summary,
        format!("The FinOps run {run_id} succeeded: {FINOPS_HEADLINE}")
    );
    let latest = invoke(
        &tp,
        &tp.ctx(Role::Viewer),
        "agent_result",
        json!({"agent": "finops"}),
    )
    .await
    .unwrap();
    assert_eq!(latest.data["run_id"], json!(run_id));

    // Progress was announced step by step, ending with the headline.
    let mut seen = Vec::new();
    while let Ok(Some(push)) = tokio::time::timeout(Duration::from_millis(500), events.recv()).await
    {
        if let Some(payload) = push.data.get(1)
            && let Ok(text) = redis::from_redis_value::<String>(payload.clone())
        {
            let event: Value = serde_json::from_str(&text).unwrap();
            if event["kind"] == "agent_progress" && event["run_id"] == json!(run_id) {
                seen.push((
                    event["status"].as_str().unwrap().to_owned(),
                    event["progress"].as_i64().unwrap(),
                ));
            }
        }
        if seen.last().is_some_and(|(s, _)| s == "succeeded") {
            break;
        }
    }
    assert_eq!(
        seen.last(),
        Some(&("succeeded".to_owned(), 100)),
        "{seen:?}"
    );
    let running: Vec<i64> = seen
        .iter()
        .filter(|(s, _)| s == "running")
        .map(|(_, p)| *p)
        .collect();
    assert!(
        running.len() >= 5 && running.windows(2).all(|w| w[0] <= w[1]),
        "{seen:?}"
    );

    worker.stop().await;
    assert_eq!(
        queue_state(&tp).await,
        (0, 0),
        "the job is acknowledged and gone"
    );
}

/// Listens to the tenant's platform events (RESP3 push messages).
async fn subscribe(
    tp: &TestPlatform,
) -> (
    redis::aio::MultiplexedConnection,
    tokio::sync::mpsc::UnboundedReceiver<redis::PushInfo>,
) {
    let url = std::env::var("REDIS_URL").unwrap();
    let url = if url.contains('?') {
        format!("{url}&protocol=resp3")
    } else {
        format!("{url}?protocol=resp3")
    };
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let config = redis::AsyncConnectionConfig::new().set_push_sender(tx);
    let mut conn = redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .unwrap();
    conn.subscribe(tp.platform.events_channel(tp.tenant))
        .await
        .unwrap();
    (conn, rx)
}

#[tokio::test]
async fn a_job_claimed_by_a_consumer_that_died_is_taken_over() {
    let tp = TestPlatform::new(vec![]).await;
    ops_data(&tp).await;
    create_group(&tp).await;
    let actor = Actor::User(tp.user(Role::Analyst));
    let run = agents::queue_run(
        &tp.platform,
        tp.tenant,
        actor,
        Agent::Ops,
        &RunParameters::default(),
    )
    .await
    .unwrap();
    // A consumer reads the job and dies before doing anything with it.
    let read: redis::Value = redis_cmd(
        &tp,
        redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg("workers")
            .arg("dead-worker")
            .arg("COUNT")
            .arg(1)
            .arg("STREAMS")
            .arg(tp.platform.jobs_stream())
            .arg(">"),
    )
    .await;
    assert!(
        matches!(read, redis::Value::Array(_) | redis::Value::Map(_)),
        "{read:?}"
    );
    assert_eq!(queue_state(&tp).await, (1, 1));

    let worker = spawn_worker(&tp, "worker-b", Duration::from_millis(500));
    let row = wait_for_run(&tp, run.id, |r| r.status == "succeeded").await;
    assert_eq!((row.attempts, row.worker.as_deref()), (1, Some("worker-b")));
    worker.stop().await;
    assert_eq!(queue_state(&tp).await, (0, 0));
}

#[tokio::test]
async fn a_worker_killed_mid_job_leaves_the_job_to_another() {
    let tp = TestPlatform::new(vec![]).await;
    finops_data(&tp).await;
    let stall = stall_analyses(&tp).await;
    let worker_a = spawn_worker(&tp, "worker-a", Duration::from_millis(600));
    let out = invoke(
        &tp,
        &tp.ctx(Role::Analyst),
        "run_agent",
        json!({"agent": "finops", "wait_seconds": 0}),
    )
    .await
    .unwrap();
    let run_id: Uuid = serde_json::from_value(out.data["run_id"].clone()).unwrap();
    let row = wait_for_run(&tp, run_id, |r| r.status == "running").await;
    assert_eq!((row.attempts, row.worker.as_deref()), (1, Some("worker-a")));

    // Worker A dies in the middle of the run; B takes the job over once A's
    // heartbeat has been silent for the claim timeout.
    worker_a.kill().await;
    let worker_b = spawn_worker(&tp, "worker-b", Duration::from_millis(600));
    wait_for_run(&tp, run_id, |r| r.worker.as_deref() == Some("worker-b")).await;
    stall.rollback().await.unwrap();

    let row = wait_for_run(&tp, run_id, |r| r.status == "succeeded").await;
    assert_eq!(
        (row.attempts, row.worker.as_deref(), row.error),
        (2, Some("worker-b"), None)
    );
    let result = invoke(
        &tp,
        &tp.ctx(Role::Viewer),
        "agent_result",
        json!({"run_id": run_id}),
    )
    .await
    .unwrap();
    assert_eq!(result.summary, FINOPS_HEADLINE);
    worker_b.stop().await;
    assert_eq!(queue_state(&tp).await, (0, 0));
}

#[tokio::test]
async fn a_long_job_is_not_taken_over_while_its_worker_lives() {
    let tp = TestPlatform::new(vec![]).await;
    ops_data(&tp).await;
    let stall = stall_analyses(&tp).await;
    let worker_a = spawn_worker(&tp, "worker-a", Duration::from_millis(300));
    let worker_b = spawn_worker(&tp, "worker-b", Duration::from_millis(300));
    let actor = Actor::User(tp.user(Role::Analyst));
    let run = agents::queue_run(
        &tp.platform,
        tp.tenant,
        actor,
        Agent::Ops,
        &RunParameters::default(),
    )
    .await
    .unwrap();
    wait_for_run(&tp, run.id, |r| r.status == "running").await;
    // Five claim timeouts on one job: the heartbeat keeps it with its worker.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stall.rollback().await.unwrap();
    let row = wait_for_run(&tp, run.id, |r| r.status == "succeeded").await;
    assert_eq!(row.attempts, 1);
    worker_a.stop().await;
    worker_b.stop().await;
    assert_eq!(queue_state(&tp).await, (0, 0));
}

#[tokio::test]
async fn a_job_delivered_too_often_is_marked_failed() {
    let tp = TestPlatform::new(vec![]).await;
    let actor = Actor::User(tp.user(Role::Analyst));
    let run = agents::queue_run(
        &tp.platform,
        tp.tenant,
        actor,
        Agent::FinOps,
        &RunParameters::default(),
    )
    .await
    .unwrap();
    deliver_to_dead_workers(&tp, 3).await;

    let worker = spawn_worker(&tp, "worker-4", Duration::from_millis(200));
    let row = wait_for_run(&tp, run.id, |r| r.status == "failed").await;
    assert_eq!(row.attempts, 0, "never started again");
    assert_eq!(
        row.error.as_deref(),
        Some("gave up after 3 deliveries: the workers running it stopped before it finished")
    );
    let out = invoke(
        &tp,
        &tp.ctx(Role::Viewer),
        "agent_result",
        json!({"run_id": run.id}),
    )
    .await
    .unwrap();
    assert!(
        out.summary
            .contains("failed, so it has no result: gave up after 3 deliveries"),
        "{}",
        out.summary
    );
    worker.stop().await;
    assert_eq!(queue_state(&tp).await, (0, 0));
}
