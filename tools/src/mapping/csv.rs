//! `aos mappings export|import FILE.csv`: the mapping registry as CSV with the
//! columns `connector,source_entity,source_field,canonical_entity,canonical_field`
//! (connector by name). An import applies every valid row and reports each
//! invalid one with its row number.

use serde::Serialize;
use sqlx::PgConnection;
use std::collections::HashMap;
use std::io::{Read, Write};

use super::MappingError;
use super::store::{self, RegistryEntry};
use crate::audit::{self, Actor};
use crate::canonical;
use crate::connectors;

/// The header, in order.
pub const COLUMNS: [&str; 5] = [
    "connector",
    "source_entity",
    "source_field",
    "canonical_entity",
    "canonical_field",
];

/// Writes every approved mapping of the tenant; returns how many.
pub async fn export_csv(
    conn: &mut PgConnection,
    writer: impl Write,
) -> Result<usize, MappingError> {
    let entries = store::list_registry(conn, None).await?;
    let mut out = csv::Writer::from_writer(writer);
    let fail = |e: csv::Error| MappingError::Csv(format!("cannot write the CSV: {e}"));
    out.write_record(COLUMNS).map_err(fail)?;
    for e in &entries {
        out.write_record([
            &e.connector,
            &e.source_entity,
            &e.source_field,
            &e.canonical_entity,
            &e.canonical_field,
        ])
        .map_err(fail)?;
    }
    out.flush()
        .map_err(|e| MappingError::Csv(format!("cannot write the CSV: {e}")))?;
    Ok(entries.len())
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    /// Rows that added or changed a mapping.
    pub applied: usize,
    /// Rows that matched a mapping already in place.
    pub unchanged: usize,
    /// Rows not applied, with why.
    pub errors: Vec<ImportRowError>,
}

/// A row that was not applied.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ImportRowError {
    /// 1-based, the header not counted.
    pub row: usize,
    pub error: String,
}

/// Applies the mappings in a CSV (with a header naming the five columns, in
/// any order) as approved by `actor`, in the caller's tenant transaction
/// (audited). Each mapping replaces the field's previous one and supersedes
/// pending proposals it makes moot. Unknown connectors, canonical entities or
/// fields are reported per row; the valid rows are applied.
pub async fn import_csv(
    conn: &mut PgConnection,
    reader: impl Read,
    actor: Actor,
) -> Result<ImportReport, MappingError> {
    let mut input = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(reader);
    let header = input
        .headers()
        .map_err(|e| MappingError::Csv(format!("cannot read the header: {e}")))?
        .clone();
    let mut position: HashMap<&str, usize> = HashMap::new();
    for column in COLUMNS {
        let at = header
            .iter()
            .position(|h| {
                h.trim_start_matches('\u{feff}')
                    .eq_ignore_ascii_case(column)
            })
            .ok_or_else(|| {
                MappingError::Csv(format!(
                    "the header must name the columns {}; `{column}` is missing",
                    COLUMNS.join(",")
                ))
            })?;
        position.insert(column, at);
    }
    let connector_ids: HashMap<String, uuid::Uuid> = connectors::list(conn)
        .await?
        .into_iter()
        .map(|c| (c.name, c.id))
        .collect();
    let existing: HashMap<(uuid::Uuid, String, String), (String, String)> =
        store::list_registry(conn, None)
            .await?
            .into_iter()
            .map(|e| {
                (
                    (e.connector_id, e.source_entity, e.source_field),
                    (e.canonical_entity, e.canonical_field),
                )
            })
            .collect();

    let mut report = ImportReport::default();
    let mut record = csv::StringRecord::new();
    let mut row = 0usize;
    loop {
        match input.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => row += 1,
            Err(e) => {
                row += 1;
                report.errors.push(ImportRowError {
                    row,
                    error: format!("cannot read the row: {e}"),
                });
                continue;
            }
        }
        let cell = |column: &str| {
            position
                .get(column)
                .and_then(|&i| record.get(i))
                .unwrap_or_default()
                .to_owned()
        };
        let [
            connector,
            source_entity,
            source_field,
            canonical_entity,
            canonical_field,
        ] = COLUMNS.map(cell);
        let checked = check_row(
            &connector_ids,
            [
                &connector,
                &source_entity,
                &source_field,
                &canonical_entity,
                &canonical_field,
            ],
        );
        let connector_id = match checked {
            Ok(id) => id,
            Err(error) => {
                report.errors.push(ImportRowError { row, error });
                continue;
            }
        };
        let key = (connector_id, source_entity.clone(), source_field.clone());
        if existing.get(&key) == Some(&(canonical_entity.clone(), canonical_field.clone())) {
            report.unchanged += 1;
            continue;
        }
        let entry = RegistryEntry {
            connector_id,
            connector,
            source_entity,
            source_field,
            canonical_entity,
            canonical_field,
            proposal_id: None,
            approved_by_user: actor.columns().0,
            approved_at: chrono::Utc::now(),
        };
        store::upsert_registry(conn, &entry).await?;
        store::supersede_related(conn, &entry, None).await?;
        report.applied += 1;
    }
    audit::record(
        conn,
        actor,
        "mappings.import",
        ("mapping_registry", "csv"),
        serde_json::json!({"applied": report.applied, "unchanged": report.unchanged, "errors": report.errors.len()}),
    )
    .await?;
    Ok(report)
}

/// The connector id of a valid row, or what is wrong with it.
fn check_row(
    connector_ids: &HashMap<String, uuid::Uuid>,
    [
        connector,
        source_entity,
        source_field,
        canonical_entity,
        canonical_field,
    ]: [&str; 5],
) -> Result<uuid::Uuid, String> {
    for (name, value) in COLUMNS.iter().zip([
        connector,
        source_entity,
        source_field,
        canonical_entity,
        canonical_field,
    ]) {
        if value.is_empty() {
            return Err(format!("`{name}` is empty"));
        }
    }
    let id = connector_ids
        .get(connector)
        .copied()
        .ok_or_else(|| format!("there is no connector named `{connector}`"))?;
    let entity = canonical::entity(canonical_entity)
        .ok_or_else(|| format!("`{canonical_entity}` is not a canonical entity"))?;
    if entity.field(canonical_field).is_none() {
        return Err(format!(
            "`{canonical_field}` is not a field of {canonical_entity} (fields: {})",
            entity
                .fields
                .iter()
                .map(|f| f.name)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(id)
}
