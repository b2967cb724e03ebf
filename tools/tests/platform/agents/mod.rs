//! Tests of the agents and the job worker: exact findings over small
//! hand-built data sets with known answers, and real workers on real Redis
//! (a job whose worker dies is finished by another, a live job is not taken
//! over, a poisoned job is given up).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod analyses;
mod data;
mod sync_jobs;
mod tools_api;
mod worker;

use serde_json::{Value, json};
use std::time::Duration;
use tools::agents::{self, Agent, Report, RunParameters};
use tools::{Actor, InvokeOptions, Role, ToolContext, ToolError, ToolOutput};
use uuid::Uuid;

use crate::support::TestPlatform;

pub(super) async fn invoke(
    tp: &TestPlatform,
    ctx: &ToolContext,
    tool: &str,
    args: Value,
) -> Result<ToolOutput, ToolError> {
    tp.registry
        .invoke(ctx, tool, args, InvokeOptions::default())
        .await
}

/// Queues a run and executes it in this process; returns its report.
pub(super) async fn run_inline(
    tp: &TestPlatform,
    agent: Agent,
    parameters: RunParameters,
) -> (Uuid, Report) {
    let actor = Actor::User(tp.user(Role::Analyst));
    let run = agents::queue_run(&tp.platform, tp.tenant, actor, agent, &parameters)
        .await
        .unwrap();
    agents::execute_run(&tp.platform, tp.tenant, run.id)
        .await
        .unwrap();
    let out = invoke(
        tp,
        &tp.ctx(Role::Viewer),
        "agent_result",
        json!({"run_id": run.id}),
    )
    .await
    .unwrap();
    assert_eq!(out.data["status"], "succeeded", "{out:?}");
    let report: Report = serde_json::from_value(out.data["result"].clone()).unwrap();
    assert_eq!(out.summary, report.headline);
    (run.id, report)
}

pub(super) fn section<'a>(report: &'a Report, name: &str) -> &'a Value {
    report
        .sections
        .get(name)
        .unwrap_or_else(|| panic!("no section `{name}` in {:?}", report.sections.keys()))
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct RunRow {
    status: String,
    attempts: i32,
    worker: Option<String>,
    progress: i32,
    error: Option<String>,
}

pub(super) async fn run_row(tp: &TestPlatform, id: Uuid) -> RunRow {
    let mut tx = tools::begin_tenant(&tp.pool, tp.tenant).await.unwrap();
    sqlx::query_as("select status, attempts, worker, progress, error from agent_runs where id = $1")
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .unwrap()
}

/// Polls the run until `done` says so, for at most 15 s.
pub(super) async fn wait_for_run(
    tp: &TestPlatform,
    id: Uuid,
    done: impl Fn(&RunRow) -> bool,
) -> RunRow {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let row = run_row(tp, id).await;
        if done(&row) {
            return row;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "run {id} stuck at {row:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
