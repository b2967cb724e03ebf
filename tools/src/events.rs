//! Platform events announced to every replica through Redis pub/sub, so every
//! open client sees approvals, runs and drift as they happen.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::approvals::{Approval, ApprovalStatus};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PlatformEvent {
    /// A side-effecting action awaits a decision.
    ApprovalRequested { approval: Box<Approval> },
    /// An approval was approved or rejected (and, if approved, carried out).
    ApprovalDecided {
        approval_id: Uuid,
        status: ApprovalStatus,
        decided_by: Option<Uuid>,
        summary: String,
    },
    /// An agent run moved forward.
    AgentProgress {
        run_id: Uuid,
        status: String,
        progress: i32,
        note: Option<String>,
    },
    /// A connector sync ended.
    SyncFinished {
        connector_id: Uuid,
        run_id: Uuid,
        status: String,
        rows_written: i64,
    },
    /// A connector's source changed shape.
    DriftDetected {
        connector_id: Uuid,
        connector: String,
        entities: Vec<String>,
    },
}
