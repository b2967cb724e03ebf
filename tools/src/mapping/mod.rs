//! Schema mapping (the DCL role): proposals from source fields to canonical
//! fields, each with a confidence built from name and description similarity
//! (the embedder, and the words themselves), type compatibility and value
//! profiles, and a one-line rationale; a person approves or rejects them;
//! approved mappings form the registry that syncs write through.

mod csv;
mod decide;
mod evidence;
mod explain;
mod propose;
mod rationale;
mod score;
mod similarity;
mod store;
mod tools;

use uuid::Uuid;

pub use self::csv::{COLUMNS as CSV_COLUMNS, ImportReport, ImportRowError, export_csv, import_csv};
pub use decide::{Decided, approve, reject, require_pending};
pub use explain::{Explanation, explain};
pub use propose::propose_for_entity;
pub(crate) use propose::{propose_after_drift, propose_for_new_entity};
pub use score::{Signals, score_field};
pub use similarity::name_similarity;
pub use store::{
    Proposal, ProposalStatus, RegistryEntry, approved_for_connector, get_proposal, list_pending,
    list_registry, pending_count,
};
pub(crate) use tools::register;

use crate::connectors::ConnectorError;
use crate::tool::ToolError;

/// Why a mapping operation failed, sorted by what the caller does next.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("{0}")]
    NotFound(String),
    /// The proposal was already decided (or superseded).
    #[error("mapping proposal {id} is already {}", .status.as_str())]
    NotPending { id: Uuid, status: ProposalStatus },
    /// The source could not be observed.
    #[error(transparent)]
    Connector(#[from] ConnectorError),
    /// The embedder failed; proposals need it.
    #[error("the embedder failed: {0}")]
    Embed(#[from] knowledge::embed::EmbedError),
    /// A mappings CSV could not be read or written as a whole.
    #[error("{0}")]
    Csv(String),
    #[error("the platform database failed: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<MappingError> for ToolError {
    fn from(err: MappingError) -> Self {
        match err {
            MappingError::NotFound(message) => ToolError::NotFound(message),
            MappingError::NotPending { .. } | MappingError::Csv(_) => {
                ToolError::BadArgs(err.to_string())
            }
            MappingError::Connector(e) => e.into(),
            MappingError::Embed(_) => ToolError::Failed(err.to_string()),
            MappingError::Database(e) => e.into(),
        }
    }
}
