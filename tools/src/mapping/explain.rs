//! Explaining a proposal: its signals and rationale, sample values of the
//! source field, what the canonical field means, and what the field maps to now.

use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use super::MappingError;
use super::store::{self, Proposal, RegistryEntry};
use crate::canonical;
use crate::connectors::{self, ColumnProfile};

/// Everything a reviewer needs to decide a proposal.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub proposal: Proposal,
    /// The canonical field's description.
    pub canonical_description: Option<String>,
    /// The source column as last observed (type, samples, counts).
    pub column: Option<ColumnProfile>,
    /// Up to 10 sample values of the source field.
    pub samples: Vec<String>,
    /// The approved mapping the field has now, if any.
    pub current_mapping: Option<RegistryEntry>,
}

/// Explains the proposal with `id`.
pub async fn explain(conn: &mut PgConnection, id: Uuid) -> Result<Explanation, MappingError> {
    let proposal = store::get_proposal(conn, id)
        .await?
        .ok_or_else(|| MappingError::NotFound(format!("there is no mapping proposal {id}")))?;
    let column =
        connectors::latest_fingerprint(conn, proposal.connector_id, &proposal.source_entity)
            .await?
            .and_then(|f| {
                f.columns
                    .into_iter()
                    .find(|c| c.name == proposal.source_field)
            });
    let samples: Vec<String> = match &column {
        Some(column) => column.samples.iter().take(10).cloned().collect(),
        None => proposal.signals["samples"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
    };
    let current_mapping =
        store::registry_for_entity(conn, proposal.connector_id, &proposal.source_entity)
            .await?
            .into_iter()
            .find(|r| r.source_field == proposal.source_field);
    let canonical_description = canonical::entity(&proposal.canonical_entity)
        .and_then(|e| e.field(&proposal.canonical_field))
        .map(|f| f.description.to_owned());
    Ok(Explanation {
        proposal,
        canonical_description,
        column,
        samples,
        current_mapping,
    })
}
