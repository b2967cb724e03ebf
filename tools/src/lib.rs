//! Platform tools and approvals: what the gateway can do on the tenant's behalf.
//!
//! A tool is either a [`ReadTool`] (answers from platform state) or an
//! [`ActionTool`] (changes something). An action never runs when asked: the
//! [`Registry`] turns the request into an [`Approval`], and only
//! [`approvals::decide`] hands an action the [`Approved`] proof it needs to run.
//! The platform itself (asset discovery, connectors, schema mapping, agents)
//! lives in its own modules and works on real databases and files.

pub mod agents;
pub mod approvals;
pub mod audit;
pub mod calls;
pub mod canonical;
pub mod connectors;
pub mod discovery;
pub mod events;
pub mod jobs;
mod knowledge_tool;
pub mod mapping;
pub mod pii;
mod platform;
pub mod registry;
mod role;
pub mod secrets;
mod tenant;
mod tool;

pub use approvals::{Approval, ApprovalStatus, Approved, Decision};
pub use audit::Actor;
pub use events::PlatformEvent;
pub use platform::{Caller, KnowledgeSearcher, Platform, ToolContext};
pub use registry::{DecideError, InvokeOptions, Registry, RegistryError};
pub use role::{Role, UnknownRole};
pub use tenant::begin_tenant;
pub use tool::{ActionTool, Effect, ReadTool, ToolError, ToolOutput, ToolSpec};
