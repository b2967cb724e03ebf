//! Proposing mappings: for a source entity's columns, pick the canonical
//! entity that fits (the one already mapped, or the best overall), pair
//! columns with its fields one to one by confidence, and store a pending
//! proposal with its signals and a one-line rationale for each pair worth a
//! person's look. Drift re-proposes what it touched: a renamed column inherits
//! the old one's target, a retyped one is put up for confirmation.

use serde_json::json;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

use super::MappingError;
use super::rationale::{Reason, Target, drift_signal, rationale};
use super::score::{
    MIN_CONFIDENCE, Scored, W_LEXICAL, W_SEMANTIC, W_TYPE, W_VALUES, alternatives, best_entity,
    round2, score_entity,
};
use super::similarity::{self, humanise};
use super::store::{self, NewProposal, Proposal, RegistryEntry};
use crate::connectors::{self, Change, ColumnProfile, Connector};
use crate::platform::Platform;

/// Why proposals are being made.
#[derive(Debug, Clone, Copy)]
enum Trigger<'a> {
    /// A source entity seen for the first time.
    NewEntity,
    /// Asked for: every column not yet mapped nor waiting for a decision.
    Requested,
    /// The entity drifted: the columns these changes touch.
    Drift(&'a [Change]),
}

/// Proposes mappings for every column of a source entity that has neither an
/// approved mapping nor a pending proposal, from its latest fingerprint (the
/// source is scanned first if it was never observed). Returns the proposals made.
pub async fn propose_for_entity(
    platform: &Platform,
    tenant: Uuid,
    connector_id: Uuid,
    entity: &str,
) -> Result<Vec<Proposal>, MappingError> {
    let (connector, latest) = {
        let mut tx = crate::tenant::begin_tenant(&platform.pool, tenant).await?;
        let connector = connectors::get(&mut tx, connector_id)
            .await?
            .ok_or_else(|| {
                MappingError::NotFound(format!("there is no connector with id {connector_id}"))
            })?;
        let latest = connectors::latest_fingerprint(&mut tx, connector_id, entity).await?;
        (connector, latest)
    };
    let columns = match latest {
        Some(latest) => latest.columns,
        None => {
            let report = connectors::scan(platform, tenant, connector_id).await?;
            let Some(scanned) = report.entities.iter().find(|e| e.entity == entity) else {
                return Err(MappingError::NotFound(format!(
                    "`{entity}` is not an entity of connector `{}`",
                    connector.name
                )));
            };
            if scanned.first_seen {
                // The scan has just proposed for it.
                let mut tx = crate::tenant::begin_tenant(&platform.pool, tenant).await?;
                return Ok(store::pending_for_entity(&mut tx, connector_id, entity).await?);
            }
            let mut tx = crate::tenant::begin_tenant(&platform.pool, tenant).await?;
            connectors::latest_fingerprint(&mut tx, connector_id, entity)
                .await?
                .map(|f| f.columns)
                .unwrap_or_default()
        }
    };
    propose(
        platform,
        tenant,
        &connector,
        entity,
        &columns,
        Trigger::Requested,
    )
    .await
}

/// First proposals for an entity nothing was ever mapped or proposed for.
pub(crate) async fn propose_for_new_entity(
    platform: &Platform,
    tenant: Uuid,
    connector: &Connector,
    entity: &str,
    columns: &[ColumnProfile],
) -> Result<Vec<Proposal>, MappingError> {
    propose(
        platform,
        tenant,
        connector,
        entity,
        columns,
        Trigger::NewEntity,
    )
    .await
}

/// Proposals for the columns drift touched (added, renamed, retyped).
pub(crate) async fn propose_after_drift(
    platform: &Platform,
    tenant: Uuid,
    connector: &Connector,
    entity: &str,
    columns: &[ColumnProfile],
    changes: &[Change],
) -> Result<Vec<Proposal>, MappingError> {
    propose(
        platform,
        tenant,
        connector,
        entity,
        columns,
        Trigger::Drift(changes),
    )
    .await
}

/// What is already known about a source entity's mapping.
struct Known {
    /// Approved mappings, by source field.
    mapped: HashMap<String, (String, String)>,
    /// Pending proposals' targets, by source field.
    waiting: HashMap<String, (String, String)>,
    /// (source field, canonical entity, canonical field) a person rejected.
    rejected: Vec<(String, String, String)>,
    /// The canonical entity most approved mappings go to.
    mapped_entity: Option<String>,
}

impl Known {
    /// What the column `name` maps to now, or is proposed to map to.
    fn target_of(&self, name: &str) -> Option<Target> {
        let target = |(entity, field): &(String, String), approved| Target {
            entity: entity.clone(),
            field: field.clone(),
            approved,
        };
        match self.mapped.get(name) {
            Some(mapped) => Some(target(mapped, true)),
            None => self.waiting.get(name).map(|w| target(w, false)),
        }
    }
}

async fn propose(
    platform: &Platform,
    tenant: Uuid,
    connector: &Connector,
    entity: &str,
    columns: &[ColumnProfile],
    trigger: Trigger<'_>,
) -> Result<Vec<Proposal>, MappingError> {
    if columns.is_empty() {
        return Ok(Vec::new());
    }
    let known = {
        let mut tx = crate::tenant::begin_tenant(&platform.pool, tenant).await?;
        if matches!(trigger, Trigger::NewEntity)
            && store::entity_has_history(&mut tx, connector.id, entity).await?
        {
            return Ok(Vec::new());
        }
        let registry = store::registry_for_entity(&mut tx, connector.id, entity).await?;
        let pending = store::pending_for_entity(&mut tx, connector.id, entity).await?;
        Known {
            mapped_entity: majority_entity(&registry),
            mapped: registry
                .into_iter()
                .map(|r| (r.source_field, (r.canonical_entity, r.canonical_field)))
                .collect(),
            waiting: pending
                .into_iter()
                .map(|p| (p.source_field, (p.canonical_entity, p.canonical_field)))
                .collect(),
            rejected: store::rejected_pairs(&mut tx, connector.id, entity).await?,
        }
    };
    let wanted = wanted_columns(trigger, columns, &known);
    if wanted.is_empty() {
        retire_vanished(platform, tenant, connector, entity, columns, trigger).await?;
        return Ok(Vec::new());
    }

    // Embed the columns and the entity name in one batch.
    let canonical = similarity::canonical_vectors(platform.embedder.as_ref()).await?;
    let mut texts: Vec<String> = columns.iter().map(|c| humanise(&c.name)).collect();
    texts.push(similarity::source_entity_text(entity));
    let mut vectors = platform.embedder.embed(&texts).await?;
    let entity_vector = vectors.pop().unwrap_or_default();

    let settled_entity = known.mapped_entity.clone().or_else(|| {
        wanted
            .iter()
            .find_map(|(_, r)| r.forced_target().map(|t| t.entity.clone()))
    });
    let scored = match settled_entity.and_then(|name| crate::canonical::entity(&name)) {
        Some(entity_def) => score_entity(entity_def, columns, &vectors, &canonical),
        None => match best_entity(columns, &vectors, &entity_vector, &canonical) {
            Some(scored) => scored,
            None => {
                tracing::info!(connector = %connector.name, entity, "no canonical entity fits; nothing proposed");
                return Ok(Vec::new());
            }
        },
    };
    let chosen = pair(&scored, columns, &wanted, &known);

    let trigger_name = match trigger {
        Trigger::NewEntity => "new_entity",
        Trigger::Requested => "requested",
        Trigger::Drift(_) => "drift",
    };
    let mut tx = crate::tenant::begin_tenant(&platform.pool, tenant).await?;
    retire_vanished_in(&mut tx, connector, entity, columns, trigger).await?;
    let mut ids = Vec::new();
    for pick in chosen {
        let new = new_proposal(connector, entity, columns, &scored, pick, trigger_name);
        ids.push(store::insert_proposal(&mut tx, &new).await?);
    }
    let mut made = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(proposal) = store::get_proposal(&mut tx, id).await? {
            made.push(proposal);
        }
    }
    tx.commit().await?;
    Ok(made)
}

/// The columns to propose for, and why.
fn wanted_columns(
    trigger: Trigger<'_>,
    columns: &[ColumnProfile],
    known: &Known,
) -> Vec<(usize, Reason)> {
    let index_of = |name: &str| columns.iter().position(|c| c.name == name);
    let mut wanted = Vec::new();
    match trigger {
        Trigger::NewEntity | Trigger::Requested => {
            for (i, column) in columns.iter().enumerate() {
                let name = column.name.as_str();
                if !known.mapped.contains_key(name) && !known.waiting.contains_key(name) {
                    wanted.push((i, Reason::Unmapped));
                }
            }
        }
        Trigger::Drift(changes) => {
            for change in changes {
                let (name, reason) = match change {
                    Change::Added { field, .. } => (field, Reason::Unmapped),
                    Change::Renamed {
                        from,
                        to,
                        value_overlap,
                        ..
                    } => (
                        to,
                        Reason::Renamed {
                            from: from.clone(),
                            overlap: *value_overlap,
                            target: known.target_of(from),
                        },
                    ),
                    Change::Retyped { field, from, to } => (
                        field,
                        Reason::Retyped {
                            from: from.to_string(),
                            to: to.to_string(),
                            target: known.target_of(field),
                        },
                    ),
                    Change::Removed { .. } => continue,
                };
                if let Some(i) = index_of(name) {
                    wanted.push((i, reason));
                }
            }
        }
    }
    wanted
}

/// Pairs the wanted columns with fields: a renamed or retyped column keeps
/// its target; the others take the best free fields, one each, never a
/// pairing a person rejected and never a field another present column feeds.
fn pair<'w>(
    scored: &Scored,
    columns: &[ColumnProfile],
    wanted: &'w [(usize, Reason)],
    known: &Known,
) -> Vec<(usize, usize, &'w Reason)> {
    let index_of = |name: &str| columns.iter().position(|c| c.name == name);
    let field_of = |name: &str| scored.fields.iter().position(|f| f.name == name);
    let renewing: HashSet<&str> = wanted
        .iter()
        .map(|(i, _)| columns[*i].name.as_str())
        .collect();
    let mut taken: HashSet<&str> = known
        .mapped
        .iter()
        .filter(|(source, (e, _))| {
            e == scored.entity.name
                && index_of(source).is_some()
                && !renewing.contains(source.as_str())
        })
        .map(|(_, (_, field))| field.as_str())
        .collect();

    let mut chosen: Vec<(usize, usize, &Reason)> = Vec::new();
    for (i, reason) in wanted {
        if let Some(target) = reason.forced_target()
            && target.entity == scored.entity.name
            && let Some(f) = field_of(&target.field)
        {
            taken.insert(scored.fields[f].name);
            chosen.push((*i, f, reason));
        }
    }
    let free: Vec<usize> = wanted
        .iter()
        .filter(|(i, _)| !chosen.iter().any(|(c, _, _)| c == i))
        .map(|(i, _)| *i)
        .collect();
    let refused: HashSet<(usize, usize)> = known
        .rejected
        .iter()
        .filter(|(_, e, _)| e == scored.entity.name)
        .filter_map(|(column, _, field)| Some((index_of(column)?, field_of(field)?)))
        .collect();
    for (c, f) in scored.assign(&free, &taken, &refused, MIN_CONFIDENCE) {
        if let Some((_, reason)) = wanted.iter().find(|(i, _)| *i == c) {
            chosen.push((c, f, reason));
        }
    }
    chosen.sort_by_key(|(c, _, _)| *c);
    chosen
}

/// After drift, proposals still waiting for columns that are gone (removed,
/// or renamed away) can no longer be decided meaningfully.
async fn retire_vanished(
    platform: &Platform,
    tenant: Uuid,
    connector: &Connector,
    entity: &str,
    columns: &[ColumnProfile],
    trigger: Trigger<'_>,
) -> Result<(), MappingError> {
    if matches!(trigger, Trigger::Drift(_)) {
        let mut tx = crate::tenant::begin_tenant(&platform.pool, tenant).await?;
        retire_vanished_in(&mut tx, connector, entity, columns, trigger).await?;
        tx.commit().await?;
    }
    Ok(())
}

async fn retire_vanished_in(
    conn: &mut sqlx::PgConnection,
    connector: &Connector,
    entity: &str,
    columns: &[ColumnProfile],
    trigger: Trigger<'_>,
) -> Result<(), MappingError> {
    if matches!(trigger, Trigger::Drift(_)) {
        let present: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
        store::supersede_missing_fields(conn, connector.id, entity, &present).await?;
    }
    Ok(())
}

/// The proposal pairing column `c` with field `f` of the scored entity.
fn new_proposal(
    connector: &Connector,
    entity: &str,
    columns: &[ColumnProfile],
    scored: &Scored,
    (c, f, reason): (usize, usize, &Reason),
    trigger: &str,
) -> NewProposal {
    let column = &columns[c];
    let field = &scored.fields[f];
    let signals = &scored.signals[c][f];
    let mut confidence = signals.confidence();
    if let Reason::Renamed {
        overlap,
        target: Some(_),
        ..
    } = reason
    {
        // Shared values are strong evidence the column is the same one.
        confidence = round2(0.5 * confidence + 0.5 * overlap.max(confidence));
    }
    NewProposal {
        connector_id: connector.id,
        source_entity: entity.to_owned(),
        source_field: column.name.clone(),
        source_type: column.column_type.to_string(),
        canonical_entity: scored.entity.name.to_owned(),
        canonical_field: field.name.to_owned(),
        confidence,
        signals: json!({
            "semantic": signals.semantic,
            "lexical": signals.lexical,
            "type_compatibility": signals.type_compatibility,
            "value_profile": signals.value_profile,
            "type_note": signals.type_note,
            "value_note": signals.value_note,
            "weights": {"semantic": W_SEMANTIC, "lexical": W_LEXICAL, "type_compatibility": W_TYPE, "value_profile": W_VALUES},
            "trigger": trigger,
            "drift": drift_signal(reason),
            "samples": column.samples.iter().take(5).collect::<Vec<_>>(),
            "alternatives": alternatives(scored, c, f),
        }),
        rationale: rationale(column, scored.entity, field, signals, reason),
    }
}

/// The canonical entity most of an entity's approved mappings go to.
fn majority_entity(registry: &[RegistryEntry]) -> Option<String> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for entry in registry {
        *counts.entry(entry.canonical_entity.as_str()).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        .map(|(name, _)| name.to_owned())
}
