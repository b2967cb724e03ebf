//! Syncs: queue one (a `sync_runs` row and a job for the workers), and run
//! one: observe the source (fingerprints, drift), then read every entity with
//! approved mappings and upsert its canonical records in batches, recording
//! rows read and written, row errors with their numbers, and the duration.

use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;
use uuid::Uuid;

use super::convert::{self, FieldMapping};
use super::observe::{self, ScanReport};
use super::runs::{self, RunOutcome, SyncRun};
use super::source::Source;
use super::store::{self, Connector, ConnectorStatus};
use super::{ConnectorError, require};
use crate::canonical::{self, Entity};
use crate::events::PlatformEvent;
use crate::jobs::{self, Job};
use crate::mapping;
use crate::platform::Platform;

/// Rows read and written per batch.
const BATCH_ROWS: usize = 500;
/// Row errors kept on a run; the rest are counted.
const KEPT_ERRORS: usize = 200;

/// Creates a queued run for the connector and hands it to the workers.
/// `approval_id` is the approval that allowed it, when there was one.
pub async fn queue_sync(
    platform: &Platform,
    tenant: Uuid,
    connector_id: Uuid,
    approval_id: Option<Uuid>,
) -> Result<SyncRun, ConnectorError> {
    let mut tx = crate::tenant::begin_tenant(&platform.pool, tenant).await?;
    require(&mut tx, connector_id).await?;
    let run = runs::insert_run(&mut tx, connector_id, approval_id).await?;
    tx.commit().await?;
    if let Err(e) = jobs::enqueue(
        platform,
        Job::Sync {
            tenant,
            run_id: run.id,
        },
    )
    .await
    {
        let mut tx = crate::tenant::begin_tenant(&platform.pool, tenant).await?;
        let errors = json!([{"error": format!("cannot queue the sync: {e}")}]);
        runs::finish_run(
            &mut tx,
            run.id,
            RunOutcome {
                status: "failed",
                rows_read: 0,
                rows_written: 0,
                errors: &errors,
                duration_ms: 0,
            },
        )
        .await?;
        tx.commit().await?;
        return Err(ConnectorError::Queue(e.to_string()));
    }
    Ok(run)
}

/// Runs a queued sync (the worker's half of [`queue_sync`]). The run ends
/// `succeeded`, `partial` (some rows could not be read or converted: they are
/// listed with their numbers) or `failed` (the source could not be read),
/// and `Ok` is returned in all three cases. `Err` means the run does not
/// exist ([`ConnectorError::NotFound`]: drop the job) or the platform
/// database failed on the way (the run is then marked failed if it still can
/// be). A run that already finished is left alone, so a job delivered twice
/// runs once; one a dead worker left `running` is run again (records are
/// upserted, so nothing is written twice).
pub async fn execute_sync_run(
    platform: &Platform,
    tenant: Uuid,
    run_id: Uuid,
) -> Result<(), ConnectorError> {
    let started = Instant::now();
    let (run, connector) = {
        let mut tx = crate::tenant::begin_tenant(&platform.pool, tenant).await?;
        let Some(run) = runs::start_run(&mut tx, run_id).await? else {
            return match runs::get_run(&mut tx, run_id).await? {
                Some(_) => Ok(()),
                None => Err(ConnectorError::NotFound(format!(
                    "there is no sync run {run_id}"
                ))),
            };
        };
        let connector = require(&mut tx, run.connector_id).await?;
        tx.commit().await?;
        (run, connector)
    };
    let result = run_sync(platform, tenant, &connector).await;
    let tally = match result {
        Ok(tally) => tally,
        Err(e) => {
            // Leave no run stuck in `running` when we can help it; the
            // database's own message stays in the log.
            tracing::error!(error = %e, run = %run.id, "sync failed");
            let reason = match &e {
                ConnectorError::Database(_) => {
                    "the platform database failed during the sync".into()
                }
                other => other.to_string(),
            };
            let tally = Tally {
                fatal: Some(reason),
                ..Tally::default()
            };
            if let Err(record_err) =
                finish(platform, tenant, &connector, run.id, &tally, started).await
            {
                tracing::error!(error = %record_err, run = %run.id, "cannot record a failed sync");
            }
            return Err(e);
        }
    };
    finish(platform, tenant, &connector, run.id, &tally, started).await
}

/// What a sync did.
#[derive(Debug, Default)]
struct Tally {
    rows_read: i64,
    rows_written: i64,
    errors: Vec<Value>,
    error_count: usize,
    /// Why the whole sync failed, when it did.
    fatal: Option<String>,
}

impl Tally {
    fn error(&mut self, entity: &str, row: Option<u64>, message: String) {
        self.error_count += 1;
        if self.errors.len() < KEPT_ERRORS {
            let mut error = json!({"entity": entity, "error": message});
            if let Some(row) = row {
                error["row"] = json!(row);
            }
            self.errors.push(error);
        }
    }

    fn status(&self) -> &'static str {
        match (&self.fatal, self.error_count, self.rows_written) {
            (Some(_), _, _) => "failed",
            (None, 0, _) => "succeeded",
            // Errors and nothing written: nothing of this run can be used.
            (None, _, 0) => "failed",
            _ => "partial",
        }
    }
}

async fn run_sync(
    platform: &Platform,
    tenant: Uuid,
    connector: &Connector,
) -> Result<Tally, ConnectorError> {
    let mut tally = Tally::default();
    let mut source = match Source::open(platform, connector).await {
        Ok(source) => source,
        Err(e) => {
            let mut tx = crate::tenant::begin_tenant(&platform.pool, tenant).await?;
            store::set_health(&mut tx, connector.id, ConnectorStatus::Failing, &e.0).await?;
            tx.commit().await?;
            tally.fatal = Some(e.0);
            return Ok(tally);
        }
    };
    let result = sync_source(platform, tenant, connector, &mut source, &mut tally).await;
    let detail = source.describe();
    source.close().await;
    let report = result?;
    observe::settle_status(platform, tenant, connector, &report, &detail).await?;
    Ok(tally)
}

async fn sync_source(
    platform: &Platform,
    tenant: Uuid,
    connector: &Connector,
    source: &mut Source,
    tally: &mut Tally,
) -> Result<ScanReport, ConnectorError> {
    let report = observe::observe_all(platform, tenant, connector, source).await?;
    // A failed proposal is not a failed sync: it is logged, and the scan shows it.
    for error in &report.errors {
        tally.error(&error.entity, None, error.error.clone());
    }
    let approved = {
        let mut tx = crate::tenant::begin_tenant(&platform.pool, tenant).await?;
        mapping::approved_for_connector(&mut tx, connector.id).await?
    };
    // source entity → canonical entity → field mappings
    let mut plan: BTreeMap<String, BTreeMap<&'static str, (&'static Entity, Vec<FieldMapping>)>> =
        BTreeMap::new();
    for m in approved {
        let Some(entity) = canonical::entity(&m.canonical_entity) else {
            continue;
        };
        let Some(field) = entity.field(&m.canonical_field) else {
            continue;
        };
        plan.entry(m.source_entity)
            .or_default()
            .entry(entity.name)
            .or_insert_with(|| (entity, Vec::new()))
            .1
            .push(FieldMapping {
                source_field: m.source_field,
                field,
            });
    }
    let offered = source.entities();
    for (source_entity, targets) in &plan {
        if !offered.contains(source_entity) {
            tally.error(source_entity, None, "is no longer in the source".into());
            continue;
        }
        sync_entity(
            platform,
            tenant,
            connector,
            source,
            source_entity,
            targets,
            tally,
        )
        .await?;
    }
    Ok(report)
}

async fn sync_entity(
    platform: &Platform,
    tenant: Uuid,
    connector: &Connector,
    source: &mut Source,
    source_entity: &str,
    targets: &BTreeMap<&'static str, (&'static Entity, Vec<FieldMapping>)>,
    tally: &mut Tally,
) -> Result<(), ConnectorError> {
    let mut rows = match source.rows(source_entity).await {
        Ok(rows) => rows,
        Err(e) => {
            tally.error(source_entity, None, e.0);
            return Ok(());
        }
    };
    let outcome = async {
        loop {
            let batch = match rows.next_batch(BATCH_ROWS).await {
                Ok(batch) if batch.is_empty() => break,
                Ok(batch) => batch,
                Err(e) => {
                    tally.error(source_entity, None, e.0);
                    break;
                }
            };
            let mut records: HashMap<&str, BatchRecords> = HashMap::new();
            for row in batch {
                tally.rows_read += 1;
                let data = match row.data {
                    Ok(data) => data,
                    Err(message) => {
                        tally.error(source_entity, Some(row.number), message);
                        continue;
                    }
                };
                for (name, (entity, mappings)) in targets {
                    match convert::record(entity, mappings, &data) {
                        Ok(record) => {
                            records.entry(*name).or_default().add(record);
                        }
                        Err(message) => tally.error(source_entity, Some(row.number), message),
                    }
                }
            }
            let mut tx = crate::tenant::begin_tenant(&platform.pool, tenant).await?;
            for (entity, batch) in &records {
                let written = runs::upsert_records(
                    &mut tx,
                    connector.id,
                    entity,
                    source_entity,
                    &batch.keys,
                    &batch.data,
                )
                .await?;
                tally.rows_written += i64::try_from(written).unwrap_or(i64::MAX);
            }
            tx.commit().await?;
        }
        Ok::<(), ConnectorError>(())
    }
    .await;
    rows.close().await;
    outcome
}

/// One batch's records of one canonical entity, each key once: a later row
/// with the same key replaces the earlier (an upsert may not touch a row twice).
#[derive(Default)]
struct BatchRecords {
    keys: Vec<String>,
    data: Vec<Value>,
    index: HashMap<String, usize>,
}

impl BatchRecords {
    fn add(&mut self, record: convert::Record) {
        match self.index.get(&record.key) {
            Some(&i) => self.data[i] = record.data,
            None => {
                self.index.insert(record.key.clone(), self.keys.len());
                self.keys.push(record.key);
                self.data.push(record.data);
            }
        }
    }
}

/// Records the run's outcome, the connector's last sync, and announces it.
async fn finish(
    platform: &Platform,
    tenant: Uuid,
    connector: &Connector,
    run_id: Uuid,
    tally: &Tally,
    started: Instant,
) -> Result<(), ConnectorError> {
    let mut errors = tally.errors.clone();
    if let Some(fatal) = &tally.fatal {
        errors.insert(0, json!({"error": fatal}));
    }
    if tally.error_count > tally.errors.len() {
        errors.push(json!({"error": format!("… and {} more row errors", tally.error_count - tally.errors.len())}));
    }
    let errors = Value::Array(errors);
    let status = tally.status();
    let mut tx = crate::tenant::begin_tenant(&platform.pool, tenant).await?;
    runs::finish_run(
        &mut tx,
        run_id,
        RunOutcome {
            status,
            rows_read: tally.rows_read,
            rows_written: tally.rows_written,
            errors: &errors,
            duration_ms: i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX),
        },
    )
    .await?;
    if tally.fatal.is_none() {
        store::touch_last_sync(&mut tx, connector.id).await?;
    }
    tx.commit().await?;
    tracing::info!(
        connector = %connector.name, run = %run_id, status,
        rows_read = tally.rows_read, rows_written = tally.rows_written, errors = tally.error_count,
        "sync finished"
    );
    platform
        .publish(
            tenant,
            &PlatformEvent::SyncFinished {
                connector_id: connector.id,
                run_id,
                status: status.to_owned(),
                rows_written: tally.rows_written,
            },
        )
        .await;
    Ok(())
}
