//! The registry: every tool by name, who may call it, and the one place calls
//! run, are timed, are recorded, and become approvals.

use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use uuid::Uuid;

use crate::approvals::{self, Approval, ApprovalStatus, Decision, NewApproval};
use crate::audit;
use crate::calls::{self, CallRecord};
use crate::events::PlatformEvent;
use crate::platform::ToolContext;
use crate::tool::{
    ActionAdapter, ActionTool, DynAction, DynRead, Effect, ReadAdapter, ReadTool, ToolError,
    ToolOutput, ToolSpec, schema_of,
};
use personas::{Persona, PersonaSet};

enum Runner {
    Read(Box<dyn DynRead>),
    Action(Box<dyn DynAction>),
}

struct Entry {
    spec: ToolSpec,
    runner: Runner,
}

/// Why the registry could not be built.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("persona definition `{persona}` names the tool `{tool}`, which does not exist")]
    UnknownTool { persona: &'static str, tool: String },
}

/// Why a decision was refused.
#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    #[error("approval not found")]
    NotFound,
    #[error("deciding this approval needs the `{needed}` role; you have `{have}`")]
    Denied {
        needed: crate::Role,
        have: crate::Role,
    },
    #[error("this approval is already {}", .0.status.as_str())]
    AlreadyDecided(Box<Approval>),
    #[error("the platform database failed")]
    Database(#[from] sqlx::Error),
}

/// All tools, by name.
pub struct Registry {
    tools: BTreeMap<&'static str, Entry>,
}

/// Options of one invocation.
#[derive(Debug, Default, Clone)]
pub struct InvokeOptions {
    /// Makes a repeated request (a retried HTTP call, a re-sent chat message)
    /// find the approval the first one created.
    pub idempotency_key: Option<String>,
}

impl Registry {
    /// Every built-in tool, with the personas allowed to use each taken from
    /// the persona definitions (their `tools` lists are the allow-lists).
    pub fn builtin(personas: &PersonaSet) -> Result<Registry, RegistryError> {
        let mut registry = Registry {
            tools: BTreeMap::new(),
        };
        crate::discovery::register(&mut registry);
        crate::connectors::register(&mut registry);
        crate::mapping::register(&mut registry);
        crate::agents::register(&mut registry);
        crate::knowledge_tool::register(&mut registry);
        registry.assign_personas(personas)?;
        Ok(registry)
    }

    fn assign_personas(&mut self, personas: &PersonaSet) -> Result<(), RegistryError> {
        for definition in personas.iter() {
            for tool in &definition.tools {
                let entry = self.tools.get_mut(tool.as_str()).ok_or_else(|| {
                    RegistryError::UnknownTool {
                        persona: definition.persona.as_str(),
                        tool: tool.clone(),
                    }
                })?;
                entry.spec.personas.push(definition.persona);
            }
        }
        Ok(())
    }

    pub fn add_read<T: ReadTool>(&mut self, tool: T) {
        let spec = ToolSpec {
            name: T::NAME,
            description: T::DESCRIPTION,
            effect: Effect::ReadOnly,
            min_role: T::MIN_ROLE,
            decide_role: None,
            timeout: T::TIMEOUT,
            parameters: schema_of::<T::Args>(),
            personas: Vec::new(),
        };
        let runner = Runner::Read(Box::new(ReadAdapter(tool)));
        self.tools.insert(T::NAME, Entry { spec, runner });
    }

    pub fn add_action<T: ActionTool>(&mut self, tool: T) {
        let spec = ToolSpec {
            name: T::NAME,
            description: T::DESCRIPTION,
            effect: Effect::SideEffect,
            min_role: T::MIN_ROLE,
            decide_role: Some(T::DECIDE_ROLE),
            timeout: T::TIMEOUT,
            parameters: schema_of::<T::Args>(),
            personas: Vec::new(),
        };
        let runner = Runner::Action(Box::new(ActionAdapter(tool)));
        self.tools.insert(T::NAME, Entry { spec, runner });
    }

    pub fn spec(&self, name: &str) -> Option<&ToolSpec> {
        self.tools.get(name).map(|e| &e.spec)
    }

    /// Every tool, whoever may call it.
    pub fn all(&self) -> impl Iterator<Item = &ToolSpec> {
        self.tools.values().map(|e| &e.spec)
    }

    /// The tools this caller's role and persona may use.
    pub fn available_to<'a>(
        &'a self,
        ctx: &'a ToolContext,
    ) -> impl Iterator<Item = &'a ToolSpec> + 'a {
        self.all().filter(|spec| permission(spec, ctx).is_ok())
    }

    /// Runs a tool, or, for one with a side effect, creates (or finds) the
    /// approval it needs and returns it as [`ToolError::NeedsApproval`]. Every
    /// call is recorded, whatever its outcome.
    pub async fn invoke(
        &self,
        ctx: &ToolContext,
        name: &str,
        arguments: Value,
        options: InvokeOptions,
    ) -> Result<ToolOutput, ToolError> {
        let started = Instant::now();
        let (result, approval_id) = match self.tools.get(name) {
            None => (
                Err(ToolError::NotFound(format!(
                    "there is no tool named `{name}`"
                ))),
                None,
            ),
            Some(entry) => {
                self.invoke_entry(ctx, entry, arguments.clone(), &options)
                    .await
            }
        };
        let (outcome, error) = match &result {
            Ok(_) => ("ok", None),
            Err(e @ ToolError::NeedsApproval(_)) => (e.outcome(), None),
            Err(e) => (e.outcome(), Some(e.to_string())),
        };
        calls::record(
            &ctx.platform.pool,
            &ctx.caller,
            CallRecord {
                tool: name,
                arguments: &arguments,
                outcome,
                error,
                approval_id,
                duration: started.elapsed(),
            },
        )
        .await;
        result
    }

    async fn invoke_entry(
        &self,
        ctx: &ToolContext,
        entry: &Entry,
        arguments: Value,
        options: &InvokeOptions,
    ) -> (Result<ToolOutput, ToolError>, Option<Uuid>) {
        if let Err(denied) = permission(&entry.spec, ctx) {
            return (Err(denied), None);
        }
        match &entry.runner {
            Runner::Read(tool) => (
                with_timeout(entry.spec.timeout, tool.run(ctx, arguments)).await,
                None,
            ),
            Runner::Action(tool) => {
                match request_approval(ctx, &entry.spec, tool.as_ref(), arguments, options).await {
                    Ok(approval) => {
                        let id = approval.id;
                        (Err(ToolError::NeedsApproval(Box::new(approval))), Some(id))
                    }
                    Err(e) => (Err(e), None),
                }
            }
        }
    }

    /// Approves or rejects a pending approval, once. An approved action runs
    /// here, with its timeout, and its result is stored on the approval. The
    /// decision is audited and announced to every replica.
    pub async fn decide(
        &self,
        ctx: &ToolContext,
        approval_id: Uuid,
        decision: Decision,
        comment: Option<&str>,
    ) -> Result<Approval, DecideError> {
        let mut tx = ctx.tx().await?;
        let current = approvals::get(&mut tx, approval_id)
            .await?
            .ok_or(DecideError::NotFound)?;
        if ctx.caller.role < current.decide_role {
            return Err(DecideError::Denied {
                needed: current.decide_role,
                have: ctx.caller.role,
            });
        }
        let Some((approval, proof)) =
            approvals::claim_decision(&mut tx, approval_id, decision, ctx.caller.actor, comment)
                .await?
        else {
            drop(tx);
            let mut tx = ctx.tx().await?;
            let now = approvals::get(&mut tx, approval_id)
                .await?
                .ok_or(DecideError::NotFound)?;
            return Err(DecideError::AlreadyDecided(Box::new(now)));
        };
        audit::record(
            &mut tx,
            ctx.caller.actor,
            match decision {
                Decision::Approve => "approval.approve",
                Decision::Reject => "approval.reject",
            },
            ("approval", &approval_id.to_string()),
            serde_json::json!({"action": approval.action, "arguments": approval.arguments, "comment": comment}),
        )
        .await?;
        tx.commit().await?;

        let approval = match proof {
            None => approval,
            Some(proof) => {
                let outcome = match self.tools.get(approval.action.as_str()) {
                    Some(Entry {
                        spec,
                        runner: Runner::Action(tool),
                    }) => {
                        with_timeout(
                            spec.timeout,
                            tool.execute(ctx, approval.arguments.clone(), &proof),
                        )
                        .await
                    }
                    _ => Err(ToolError::Failed(format!(
                        "the action `{}` no longer exists",
                        approval.action
                    ))),
                };
                let mut tx = ctx.tx().await?;
                let stored = match &outcome {
                    Ok(output) => {
                        let value = serde_json::to_value(output).unwrap_or(Value::Null);
                        approvals::record_outcome(&mut tx, approval_id, Ok(&value)).await?
                    }
                    Err(e) => {
                        approvals::record_outcome(&mut tx, approval_id, Err(&e.to_string())).await?
                    }
                };
                audit::record(
                    &mut tx,
                    ctx.caller.actor,
                    &format!("tool.{}", approval.action),
                    ("approval", &approval_id.to_string()),
                    serde_json::json!({
                        "arguments": approval.arguments,
                        "ok": outcome.is_ok(),
                        "error": outcome.as_ref().err().map(ToString::to_string),
                    }),
                )
                .await?;
                tx.commit().await?;
                stored
            }
        };
        let summary = match (&approval.status, &approval.result, &approval.error) {
            (ApprovalStatus::Executed, Some(result), _) => result
                .get("summary")
                .and_then(Value::as_str)
                .unwrap_or(&approval.summary)
                .to_owned(),
            (ApprovalStatus::Failed, _, Some(error)) => error.clone(),
            _ => approval.summary.clone(),
        };
        ctx.platform
            .publish(
                ctx.tenant(),
                &PlatformEvent::ApprovalDecided {
                    approval_id,
                    status: approval.status,
                    decided_by: ctx.caller.actor.columns().0,
                    summary,
                },
            )
            .await;
        Ok(approval)
    }
}

/// Whether the caller's role and persona allow the tool.
fn permission(spec: &ToolSpec, ctx: &ToolContext) -> Result<(), ToolError> {
    if ctx.caller.role < spec.min_role {
        return Err(ToolError::Denied(format!(
            "`{}` needs the `{}` role; you have `{}`",
            spec.name, spec.min_role, ctx.caller.role
        )));
    }
    if let Some(persona) = ctx.caller.persona
        && !spec.personas.contains(&persona)
    {
        return Err(ToolError::Denied(format!(
            "`{}` is not among the {} persona's tools",
            spec.name,
            persona_label(persona)
        )));
    }
    Ok(())
}

fn persona_label(persona: Persona) -> String {
    persona.as_str().to_uppercase()
}

async fn request_approval(
    ctx: &ToolContext,
    spec: &ToolSpec,
    tool: &dyn DynAction,
    arguments: Value,
    options: &InvokeOptions,
) -> Result<Approval, ToolError> {
    let (arguments, summary) = with_timeout(spec.timeout, tool.prepare(ctx, arguments)).await?;
    let mut tx = ctx.tx().await?;
    let (approval, created) = approvals::create_or_find(
        &mut tx,
        NewApproval {
            action: spec.name,
            arguments: &arguments,
            summary: &summary,
            requested_by: ctx.caller.actor,
            decide_role: spec.decide_role.unwrap_or(crate::Role::Approver),
            ttl: tool.approval_ttl(),
            idempotency_key: options.idempotency_key.as_deref(),
            conversation_id: ctx.conversation_id,
        },
    )
    .await?;
    if created {
        audit::record(
            &mut tx,
            ctx.caller.actor,
            "approval.request",
            ("approval", &approval.id.to_string()),
            serde_json::json!({"action": spec.name, "arguments": arguments}),
        )
        .await?;
    }
    tx.commit().await?;
    if created {
        ctx.platform
            .publish(
                ctx.tenant(),
                &PlatformEvent::ApprovalRequested {
                    approval: Box::new(approval.clone()),
                },
            )
            .await;
    }
    Ok(approval)
}

async fn with_timeout<T>(
    limit: Duration,
    work: impl std::future::Future<Output = Result<T, ToolError>>,
) -> Result<T, ToolError> {
    match tokio::time::timeout(limit, work).await {
        Ok(result) => result,
        Err(_) => Err(ToolError::Timeout(limit)),
    }
}
