//! The agent tools: `run_agent` (queue a run and wait a little for it),
//! `agent_status` and `agent_result`.
//!
//! `run_agent` is a read tool: a run only reads the tenant's data and writes
//! its own record, so there is nothing for a person to approve.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use uuid::Uuid;

use super::report::Report;
use super::{Agent, AgentError, AgentRun, RunParameters, RunStatus, queue_run, store};
use crate::platform::ToolContext;
use crate::tool::{ReadTool, ToolError, ToolOutput};

/// How long `run_agent` waits for the result when not told.
const DEFAULT_WAIT_SECONDS: u8 = 20;
const MAX_WAIT_SECONDS: u8 = 60;
const MAX_FOCUS_CHARS: usize = 500;

pub struct RunAgent;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunAgentArgs {
    /// Which agent: `finops` (cloud and LLM spend, anomalies, idle resources,
    /// budgets), `revops` (pipeline coverage, win rate, deals at risk,
    /// forecast) or `ops` (SLA breaches, ticket backlog, fulfilment, vendors).
    pub agent: Agent,
    /// What the question is about, in a few words; related findings come first.
    #[serde(default)]
    pub focus: Option<String>,
    /// RevOps only: the quarter's quota in US dollars (default 6,000,000).
    #[serde(default)]
    pub quota_usd: Option<f64>,
    /// How long to wait for the result, 0–60 seconds (default 20); if the run
    /// is not done by then, its id is returned to ask `agent_status` later.
    #[serde(default)]
    pub wait_seconds: Option<u8>,
}

impl ReadTool for RunAgent {
    type Args = RunAgentArgs;
    const NAME: &'static str = "run_agent";
    const DESCRIPTION: &'static str = "Run an analytical agent over the company's synced data and return its headline and findings: `finops` (cloud and LLM spend by service, account and month, spend anomalies, idle resources, budget against actual), `revops` (pipeline coverage against quota, win rate by segment, deals at risk, forecast) or `ops` (SLA breaches, ticket backlog, fulfilment times, vendor on-time delivery).";
    // Waiting is bounded by `wait_seconds`; this only guards against a stall.
    const TIMEOUT: Duration = Duration::from_secs(MAX_WAIT_SECONDS as u64 + 15);

    async fn run(&self, ctx: &ToolContext, args: Self::Args) -> Result<ToolOutput, ToolError> {
        let wait = args.wait_seconds.unwrap_or(DEFAULT_WAIT_SECONDS);
        if wait > MAX_WAIT_SECONDS {
            return Err(ToolError::BadArgs(format!(
                "`wait_seconds` must be between 0 and {MAX_WAIT_SECONDS}"
            )));
        }
        let focus = args
            .focus
            .map(|f| f.trim().to_owned())
            .filter(|f| !f.is_empty());
        if focus
            .as_ref()
            .is_some_and(|f| f.chars().count() > MAX_FOCUS_CHARS)
        {
            return Err(ToolError::BadArgs(format!(
                "`focus` must be at most {MAX_FOCUS_CHARS} characters"
            )));
        }
        if let Some(quota) = args.quota_usd
            && !(quota.is_finite() && quota > 0.0)
        {
            return Err(ToolError::BadArgs(
                "`quota_usd` must be a positive number".into(),
            ));
        }
        let parameters = RunParameters {
            focus,
            quota_usd: args.quota_usd,
        };
        let run = queue_run(
            &ctx.platform,
            ctx.tenant(),
            ctx.caller.actor,
            args.agent,
            &parameters,
        )
        .await
        .map_err(|e| match e {
            AgentError::Queue(err) => {
                tracing::error!(error = %err, "cannot queue an agent run");
                ToolError::Failed("the job queue is unavailable; try again".into())
            }
            other => failed(other),
        })?;
        let run = wait_for(ctx, run, Duration::from_secs(u64::from(wait))).await?;
        match run.status {
            RunStatus::Succeeded => Ok(finished_output(&run)),
            RunStatus::Failed => Err(ToolError::Failed(format!(
                "the {} run {} failed: {}",
                run.agent.label(),
                run.id,
                run.error.as_deref().unwrap_or("no reason recorded")
            ))),
            RunStatus::Queued | RunStatus::Running => Ok(ToolOutput::new(
                format!(
                    "The {} agent is still working ({}); ask agent_status or agent_result with run id {} in a moment.",
                    run.agent.label(),
                    progress_text(&run),
                    run.id
                ),
                StatusView::from(&run),
            )),
        }
    }
}

pub struct AgentStatus;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentStatusArgs {
    /// The run to look at; without it, the ten most recent runs are listed.
    #[serde(default)]
    pub run_id: Option<Uuid>,
}

impl ReadTool for AgentStatus {
    type Args = AgentStatusArgs;
    const NAME: &'static str = "agent_status";
    const DESCRIPTION: &'static str = "Show where an agent run is (queued, running with its progress, succeeded or failed), or list the most recent runs.";

    async fn run(&self, ctx: &ToolContext, args: Self::Args) -> Result<ToolOutput, ToolError> {
        let mut tx = ctx.tx().await?;
        let Some(id) = args.run_id else {
            let runs = store::recent(&mut tx, None, false, 10).await?;
            let views: Vec<StatusView> = runs.iter().map(StatusView::from).collect();
            let summary = match runs.first() {
                None => "No agent has been run yet.".to_owned(),
                Some(latest) => format!(
                    "{} recent run(s); the latest is the {} run {} ({}).",
                    runs.len(),
                    latest.agent.label(),
                    latest.id,
                    progress_text(latest)
                ),
            };
            return Ok(ToolOutput::new(summary, views));
        };
        let run = store::get(&mut tx, id)
            .await?
            .ok_or_else(|| not_found(id))?;
        let summary = match (run.status, headline(&run)) {
            (RunStatus::Succeeded, Some(headline)) => format!(
                "The {} run {} succeeded: {headline}",
                run.agent.label(),
                run.id
            ),
            _ => format!(
                "The {} run {} is {}.",
                run.agent.label(),
                run.id,
                progress_text(&run)
            ),
        };
        Ok(ToolOutput::new(summary, StatusView::from(&run)))
    }
}

pub struct AgentResult;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentResultArgs {
    /// The run whose result to show.
    #[serde(default)]
    pub run_id: Option<Uuid>,
    /// Without `run_id`: the latest finished run of this agent.
    #[serde(default)]
    pub agent: Option<Agent>,
}

impl ReadTool for AgentResult {
    type Args = AgentResultArgs;
    const NAME: &'static str = "agent_result";
    const DESCRIPTION: &'static str = "Show the findings of an agent run (headline, findings and tables), by run id or the latest finished run of an agent.";

    async fn run(&self, ctx: &ToolContext, args: Self::Args) -> Result<ToolOutput, ToolError> {
        let mut tx = ctx.tx().await?;
        let run = match (args.run_id, args.agent) {
            (Some(id), _) => store::get(&mut tx, id)
                .await?
                .ok_or_else(|| not_found(id))?,
            (None, Some(agent)) => store::recent(&mut tx, Some(agent), true, 1)
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    ToolError::NotFound(format!(
                        "the {} agent has not finished a run yet; start one with run_agent",
                        agent.label()
                    ))
                })?,
            (None, None) => {
                return Err(ToolError::BadArgs("give `run_id` or `agent`".into()));
            }
        };
        Ok(match run.status {
            RunStatus::Succeeded => finished_output(&run),
            RunStatus::Failed => ToolOutput::new(
                format!(
                    "The {} run {} failed, so it has no result: {}",
                    run.agent.label(),
                    run.id,
                    run.error.as_deref().unwrap_or("no reason recorded")
                ),
                StatusView::from(&run),
            ),
            RunStatus::Queued | RunStatus::Running => ToolOutput::new(
                format!(
                    "The {} run {} has not finished yet ({}); its result will be here when it does.",
                    run.agent.label(),
                    run.id,
                    progress_text(&run)
                ),
                StatusView::from(&run),
            ),
        })
    }
}

/// A run as the status tools show it.
#[derive(Serialize)]
struct StatusView {
    run_id: Uuid,
    agent: Agent,
    status: RunStatus,
    progress: i32,
    progress_note: Option<String>,
    error: Option<String>,
    attempts: i32,
    parameters: serde_json::Value,
    created_at: chrono::DateTime<chrono::Utc>,
    started_at: Option<chrono::DateTime<chrono::Utc>>,
    finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<&AgentRun> for StatusView {
    fn from(run: &AgentRun) -> Self {
        StatusView {
            run_id: run.id,
            agent: run.agent,
            status: run.status,
            progress: run.progress,
            progress_note: run.progress_note.clone(),
            error: run.error.clone(),
            attempts: run.attempts,
            parameters: run.parameters.clone(),
            created_at: run.created_at,
            started_at: run.started_at,
            finished_at: run.finished_at,
        }
    }
}

/// A finished run's output: the headline as the summary, the report as data.
fn finished_output(run: &AgentRun) -> ToolOutput {
    let summary = headline(run).unwrap_or_else(|| {
        format!(
            "The {} run {} finished without a headline.",
            run.agent.label(),
            run.id
        )
    });
    ToolOutput::new(
        summary,
        serde_json::json!({
            "run_id": run.id,
            "agent": run.agent,
            "status": run.status,
            "result": run.result,
        }),
    )
}

fn headline(run: &AgentRun) -> Option<String> {
    let report: Report = serde_json::from_value(run.result.clone()?).ok()?;
    Some(report.headline)
}

/// `running, 40% (anomalies by robust z-score)`.
fn progress_text(run: &AgentRun) -> String {
    match (run.status, &run.progress_note) {
        (RunStatus::Running, Some(note)) => format!("running, {}% ({note})", run.progress),
        (RunStatus::Running, None) => format!("running, {}%", run.progress),
        (RunStatus::Failed, _) => format!(
            "failed: {}",
            run.error.as_deref().unwrap_or("no reason recorded")
        ),
        (status, _) => status.as_str().to_owned(),
    }
}

/// Polls the run until it finishes or `limit` passes.
async fn wait_for(
    ctx: &ToolContext,
    mut run: AgentRun,
    limit: Duration,
) -> Result<AgentRun, ToolError> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut pause = Duration::from_millis(100);
    while !run.status.is_finished() {
        let now = tokio::time::Instant::now();
        if now >= deadline {
            break;
        }
        tokio::time::sleep(pause.min(deadline - now)).await;
        pause = (pause * 2).min(Duration::from_millis(500));
        let mut tx = ctx.tx().await?;
        run = store::get(&mut tx, run.id)
            .await?
            .ok_or_else(|| not_found(run.id))?;
    }
    Ok(run)
}

fn not_found(id: Uuid) -> ToolError {
    ToolError::NotFound(format!("there is no agent run {id}"))
}

fn failed(err: AgentError) -> ToolError {
    match err {
        AgentError::Database(e) => ToolError::from(e),
        other => {
            tracing::error!(error = %other, "agent tool failed");
            ToolError::Failed(other.to_string())
        }
    }
}
