//! The tool traits. Arguments are typed; their JSON schema is derived from the
//! type (for REST clients and LLM function calling), and parsing a call's JSON
//! into that type is the validation, so a mismatch comes back as `BadArgs` with
//! serde's reason.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::approvals::{Approval, Approved};
use crate::platform::ToolContext;
use crate::role::Role;
use personas::Persona;

/// What a tool returns: a one-line summary a person can read, and the data.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ToolOutput {
    pub summary: String,
    pub data: Value,
}

impl ToolOutput {
    pub fn new(summary: impl Into<String>, data: impl Serialize) -> ToolOutput {
        ToolOutput {
            summary: summary.into(),
            data: serde_json::to_value(data).unwrap_or(Value::Null),
        }
    }
}

/// Why a tool call did not produce a result, sorted by what the caller does next.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// The arguments do not fit the tool's schema or make no sense: fix them.
    #[error("bad arguments: {0}")]
    BadArgs(String),
    /// The caller's role or persona may not use this tool, or the object is not theirs.
    #[error("denied: {0}")]
    Denied(String),
    /// The thing the arguments name does not exist (for this tenant).
    #[error("not found: {0}")]
    NotFound(String),
    /// The call has a side effect: it became this approval, which a person decides.
    #[error("needs approval: {}", .0.summary)]
    NeedsApproval(Box<Approval>),
    /// The tool ran and failed; the message says why.
    #[error("failed: {0}")]
    Failed(String),
    /// The tool did not finish within its time limit.
    #[error("timed out after {} s", .0.as_secs_f64())]
    Timeout(Duration),
}

impl ToolError {
    /// The `tool_calls.outcome` this error is recorded as.
    pub fn outcome(&self) -> &'static str {
        match self {
            ToolError::BadArgs(_) | ToolError::NotFound(_) => "bad_args",
            ToolError::Denied(_) => "denied",
            ToolError::NeedsApproval(_) => "needs_approval",
            ToolError::Failed(_) => "failed",
            ToolError::Timeout(_) => "timeout",
        }
    }
}

impl From<sqlx::Error> for ToolError {
    fn from(err: sqlx::Error) -> Self {
        tracing::error!(error = %err, "tool database error");
        ToolError::Failed("the platform database failed; try again".into())
    }
}

/// Whether calling a tool changes anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    ReadOnly,
    SideEffect,
}

/// What the registry knows about a tool, as listed to clients.
#[derive(Debug, Clone, Serialize)]
pub struct ToolSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub effect: Effect,
    /// The least role that may call it (for an action: that may request it).
    pub min_role: Role,
    /// For an action: the least role that may approve or reject it.
    pub decide_role: Option<Role>,
    #[serde(serialize_with = "as_secs")]
    pub timeout: Duration,
    /// JSON schema of the arguments.
    pub parameters: Value,
    /// The personas whose definitions allow this tool.
    pub personas: Vec<Persona>,
}

fn as_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// A tool that reads platform state and changes nothing.
pub trait ReadTool: Send + Sync + 'static {
    type Args: DeserializeOwned + JsonSchema + Send;
    const NAME: &'static str;
    const DESCRIPTION: &'static str;
    const MIN_ROLE: Role = Role::Viewer;
    const TIMEOUT: Duration = Duration::from_secs(15);

    fn run(
        &self,
        ctx: &ToolContext,
        args: Self::Args,
    ) -> impl Future<Output = Result<ToolOutput, ToolError>> + Send;
}

/// A tool with a side effect. Asking for it only creates an approval; it runs
/// when a person with `DECIDE_ROLE` approves, and `execute` cannot be reached
/// without the [`Approved`] proof that only a successful decision makes.
pub trait ActionTool: Send + Sync + 'static {
    type Args: DeserializeOwned + Serialize + JsonSchema + Send + Sync;
    const NAME: &'static str;
    const DESCRIPTION: &'static str;
    const MIN_ROLE: Role = Role::Analyst;
    const DECIDE_ROLE: Role = Role::Approver;
    const TIMEOUT: Duration = Duration::from_secs(30);
    /// How long the approval may wait for a decision.
    const APPROVAL_TTL: Duration = Duration::from_secs(24 * 3600);

    /// Checks the request could be carried out now and says, in one line, what
    /// it will do (shown to the approver).
    fn prepare(
        &self,
        ctx: &ToolContext,
        args: &Self::Args,
    ) -> impl Future<Output = Result<String, ToolError>> + Send;

    /// Carries out the approved request.
    fn execute(
        &self,
        ctx: &ToolContext,
        args: Self::Args,
        approval: &Approved,
    ) -> impl Future<Output = Result<ToolOutput, ToolError>> + Send;
}

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Object-safe face of a [`ReadTool`], with the JSON parsing done here.
pub(crate) trait DynRead: Send + Sync {
    fn run<'a>(
        &'a self,
        ctx: &'a ToolContext,
        args: Value,
    ) -> BoxFuture<'a, Result<ToolOutput, ToolError>>;
}

/// Object-safe face of an [`ActionTool`].
pub(crate) trait DynAction: Send + Sync {
    /// Parses and checks the arguments; gives them back normalised, with the summary.
    fn prepare<'a>(
        &'a self,
        ctx: &'a ToolContext,
        args: Value,
    ) -> BoxFuture<'a, Result<(Value, String), ToolError>>;
    fn execute<'a>(
        &'a self,
        ctx: &'a ToolContext,
        args: Value,
        approval: &'a Approved,
    ) -> BoxFuture<'a, Result<ToolOutput, ToolError>>;
    fn approval_ttl(&self) -> Duration;
}

pub(crate) fn parse_args<T: DeserializeOwned>(args: Value) -> Result<T, ToolError> {
    // A tool without arguments accepts `null` as well as `{}`.
    let args = if args.is_null() {
        Value::Object(Default::default())
    } else {
        args
    };
    serde_json::from_value(args).map_err(|e| ToolError::BadArgs(e.to_string()))
}

pub(crate) struct ReadAdapter<T>(pub T);

impl<T: ReadTool> DynRead for ReadAdapter<T> {
    fn run<'a>(
        &'a self,
        ctx: &'a ToolContext,
        args: Value,
    ) -> BoxFuture<'a, Result<ToolOutput, ToolError>> {
        Box::pin(async move {
            let args = parse_args::<T::Args>(args)?;
            self.0.run(ctx, args).await
        })
    }
}

pub(crate) struct ActionAdapter<T>(pub T);

impl<T: ActionTool> DynAction for ActionAdapter<T> {
    fn prepare<'a>(
        &'a self,
        ctx: &'a ToolContext,
        args: Value,
    ) -> BoxFuture<'a, Result<(Value, String), ToolError>> {
        Box::pin(async move {
            let args = parse_args::<T::Args>(args)?;
            let summary = self.0.prepare(ctx, &args).await?;
            let normalised = serde_json::to_value(&args)
                .map_err(|e| ToolError::Failed(format!("cannot store the arguments: {e}")))?;
            Ok((normalised, summary))
        })
    }

    fn execute<'a>(
        &'a self,
        ctx: &'a ToolContext,
        args: Value,
        approval: &'a Approved,
    ) -> BoxFuture<'a, Result<ToolOutput, ToolError>> {
        Box::pin(async move {
            let args = parse_args::<T::Args>(args)?;
            self.0.execute(ctx, args, approval).await
        })
    }

    fn approval_ttl(&self) -> Duration {
        T::APPROVAL_TTL
    }
}

/// The JSON schema of `T`, as an object schema suitable for function calling.
pub(crate) fn schema_of<T: JsonSchema>() -> Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(T)).unwrap_or(Value::Null);
    if let Some(object) = schema.as_object_mut() {
        object.remove("$schema");
        object.remove("title");
        object.entry("type").or_insert_with(|| "object".into());
        object
            .entry("properties")
            .or_insert_with(|| Value::Object(Default::default()));
    }
    schema
}
