//! The agent tools without a worker: waiting, bad arguments, tenant isolation.

use serde_json::json;
use tools::agents::{self, Agent, RunParameters};
use tools::{Actor, Role, ToolError};
use uuid::Uuid;

use super::data::{OPS_HEADLINE, finops_data, ops_data};
use super::{invoke, run_inline, run_row};
use crate::support::TestPlatform;

#[tokio::test]
async fn run_agent_without_a_worker_returns_the_run_to_ask_about_later() {
    let tp = TestPlatform::new(vec![]).await;
    ops_data(&tp).await;
    let ctx = tp.ctx(Role::Analyst);
    let out = invoke(
        &tp,
        &ctx,
        "run_agent",
        json!({"agent": "ops", "wait_seconds": 0}),
    )
    .await
    .unwrap();
    let run_id: Uuid = serde_json::from_value(out.data["run_id"].clone()).unwrap();
    assert_eq!(
        out.summary,
        format!(
            "The Ops agent is still working (queued); ask agent_status or agent_result with run id {run_id} in a moment."
        )
    );
    let pending = invoke(&tp, &ctx, "agent_result", json!({"run_id": run_id}))
        .await
        .unwrap();
    assert_eq!(
        pending.summary,
        format!(
            "The Ops run {run_id} has not finished yet (queued); its result will be here when it does."
        )
    );
    assert_eq!(pending.data["status"], "queued");

    agents::execute_run(&tp.platform, tp.tenant, run_id)
        .await
        .unwrap();
    let done = invoke(&tp, &ctx, "agent_result", json!({"run_id": run_id}))
        .await
        .unwrap();
    assert_eq!(done.summary, OPS_HEADLINE);
    // Executing it again (a job delivered twice) changes nothing.
    agents::execute_run(&tp.platform, tp.tenant, run_id)
        .await
        .unwrap();
    let row = run_row(&tp, run_id).await;
    assert_eq!((row.status.as_str(), row.attempts), ("succeeded", 1));
}

#[tokio::test]
async fn agent_tools_refuse_bad_arguments() {
    let tp = TestPlatform::new(vec![]).await;
    let ctx = tp.ctx(Role::Analyst);
    for args in [
        json!({"agent": "hr"}),
        json!({}),
        json!({"agent": "finops", "wait_seconds": 61}),
        json!({"agent": "revops", "quota_usd": -5}),
        json!({"agent": "finops", "colour": "blue"}),
    ] {
        let err = invoke(&tp, &ctx, "run_agent", args.clone())
            .await
            .unwrap_err();
        assert!(matches!(err, ToolError::BadArgs(_)), "{args}: {err:?}");
    }
    let err = invoke(&tp, &ctx, "agent_status", json!({"run_id": "not-a-uuid"}))
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::BadArgs(_)), "{err:?}");
    let err = invoke(&tp, &ctx, "agent_result", json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::BadArgs(_)), "{err:?}");
    let err = invoke(&tp, &ctx, "agent_result", json!({"run_id": Uuid::new_v4()}))
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::NotFound(_)), "{err:?}");
}

#[tokio::test]
async fn another_tenant_never_sees_a_run() {
    let tp = TestPlatform::new(vec![]).await;
    finops_data(&tp).await;
    let (run_id, _) = run_inline(&tp, Agent::FinOps, RunParameters::default()).await;

    let other = tp.other_tenant().await;
    let mut ctx = tp.ctx(Role::Admin);
    ctx.caller.tenant = other;
    for tool in ["agent_status", "agent_result"] {
        let err = invoke(&tp, &ctx, tool, json!({"run_id": run_id}))
            .await
            .unwrap_err();
        assert!(matches!(err, ToolError::NotFound(_)), "{tool}: {err:?}");
    }
    let listed = invoke(&tp, &ctx, "agent_status", json!({})).await.unwrap();
    assert_eq!(listed.summary, "No agent has been run yet.");
    let err = invoke(&tp, &ctx, "agent_result", json!({"agent": "finops"}))
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::NotFound(_)), "{err:?}");
    // And the other tenant's own FinOps run sees none of the first tenant's data.
    let run = agents::queue_run(
        &tp.platform,
        other,
        Actor::User(tp.user(Role::Admin)),
        Agent::FinOps,
        &RunParameters::default(),
    )
    .await
    .unwrap();
    agents::execute_run(&tp.platform, other, run.id)
        .await
        .unwrap();
    let out = invoke(&tp, &ctx, "agent_result", json!({"run_id": run.id}))
        .await
        .unwrap();
    assert_eq!(
        out.summary,
        "No cloud cost data has been synced yet, so there is no spend to analyse."
    );
}
