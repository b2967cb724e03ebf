//! One face over both kinds of source: open it, list its entities, profile an
//! entity's columns from a sample, and read an entity's rows in batches.

use sqlx::PgConnection;
use std::path::PathBuf;
use std::time::Duration;

use super::SourceError;
use super::config::ConnectorConfig;
use super::files::{self, FileRows, SourceRow};
use super::fingerprint::{self, ColumnProfile};
use super::postgres::{self, PgRows, Table};
use super::store::Connector;
use crate::platform::Platform;

/// How many rows a profile samples.
const SAMPLE_ROWS: usize = 500;

/// An open source.
pub(crate) enum Source {
    Postgres {
        conn: PgConnection,
        tables: Vec<Table>,
        connected_in: Duration,
    },
    Files {
        dir: PathBuf,
        names: Vec<String>,
    },
}

impl Source {
    /// Connects to (or opens) the connector's source and lists its entities.
    pub(crate) async fn open(
        platform: &Platform,
        connector: &Connector,
    ) -> Result<Source, SourceError> {
        match &connector.config {
            ConnectorConfig::Postgres(config) => {
                let (mut conn, connected_in) =
                    postgres::connect(config, &platform.secrets, connector.id).await?;
                match postgres::tables(&mut conn, config).await {
                    Ok(tables) => Ok(Source::Postgres {
                        conn,
                        tables,
                        connected_in,
                    }),
                    Err(e) => {
                        postgres::disconnect(conn).await;
                        Err(e)
                    }
                }
            }
            ConnectorConfig::Files(config) => {
                let dir = platform
                    .allowed_path(&config.path.to_string_lossy())
                    .map_err(SourceError)?;
                if !dir.is_dir() {
                    return Err(SourceError(format!("`{}` is not a folder", dir.display())));
                }
                let listed = dir.clone();
                let names = blocking(move || files::entities(&listed)).await?;
                Ok(Source::Files { dir, names })
            }
        }
    }

    /// Every entity the source offers, in a stable order.
    pub(crate) fn entities(&self) -> Vec<String> {
        match self {
            Source::Postgres { tables, .. } => tables.iter().map(Table::entity).collect(),
            Source::Files { names, .. } => names.clone(),
        }
    }

    /// One line on what was found, for a health status.
    pub(crate) fn describe(&self) -> String {
        match self {
            Source::Postgres {
                tables,
                connected_in,
                ..
            } => format!(
                "connected in {} ms; {} table(s)",
                connected_in.as_millis(),
                tables.len()
            ),
            Source::Files { dir, names } => {
                format!("{} readable file(s) in {}", names.len(), dir.display())
            }
        }
    }

    /// The entity's columns, typed and profiled from a sample of its rows.
    pub(crate) async fn profile(
        &mut self,
        entity: &str,
    ) -> Result<Vec<ColumnProfile>, SourceError> {
        match self {
            Source::Postgres { conn, tables, .. } => {
                let table = find_table(tables, entity)?;
                let rows = postgres::sample(conn, table, SAMPLE_ROWS as i64).await?;
                Ok(fingerprint::profile(&table.columns, &rows))
            }
            Source::Files { dir, .. } => {
                let dir = dir.clone();
                let entity = entity.to_owned();
                blocking(move || {
                    let mut rows = FileRows::open(&dir, &entity)?;
                    let declared = rows.declared();
                    let sampled: Vec<_> = rows
                        .next_batch(SAMPLE_ROWS)?
                        .into_iter()
                        .filter_map(|row| row.data.ok())
                        .collect();
                    Ok(fingerprint::profile(&declared, &sampled))
                })
                .await
            }
        }
    }

    /// A reader of every row of `entity`.
    pub(crate) async fn rows(&mut self, entity: &str) -> Result<EntityRows<'_>, SourceError> {
        match self {
            Source::Postgres { conn, tables, .. } => {
                let table = find_table(tables, entity)?.clone();
                Ok(EntityRows::Postgres(PgRows::open(conn, &table).await?))
            }
            Source::Files { dir, .. } => {
                let dir = dir.clone();
                let entity = entity.to_owned();
                let rows = blocking(move || FileRows::open(&dir, &entity)).await?;
                Ok(EntityRows::Files(Some(rows)))
            }
        }
    }

    /// Lets go of the source (closes a database connection).
    pub(crate) async fn close(self) {
        if let Source::Postgres { conn, .. } = self {
            postgres::disconnect(conn).await;
        }
    }
}

fn find_table<'t>(tables: &'t [Table], entity: &str) -> Result<&'t Table, SourceError> {
    tables
        .iter()
        .find(|t| t.entity() == entity)
        .ok_or_else(|| SourceError(format!("`{entity}` is not in the source")))
}

/// The rows of one entity, a batch at a time.
pub(crate) enum EntityRows<'s> {
    Postgres(PgRows<'s>),
    /// `None` only while a batch is being read on the blocking pool.
    Files(Option<FileRows>),
}

impl EntityRows<'_> {
    /// Up to `max` rows; an empty batch means the end.
    pub(crate) async fn next_batch(&mut self, max: usize) -> Result<Vec<SourceRow>, SourceError> {
        match self {
            EntityRows::Postgres(rows) => rows.next_batch(max).await,
            EntityRows::Files(slot) => {
                let Some(mut rows) = slot.take() else {
                    return Ok(Vec::new());
                };
                let (rows, batch) = blocking(move || {
                    let batch = rows.next_batch(max);
                    Ok((rows, batch))
                })
                .await?;
                *slot = Some(rows);
                batch
            }
        }
    }

    /// Stops reading (ends a database cursor's transaction).
    pub(crate) async fn close(mut self) {
        if let EntityRows::Postgres(rows) = &mut self {
            rows.close().await;
        }
    }
}

/// Runs file work on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, SourceError> + Send + 'static,
) -> Result<T, SourceError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| SourceError(format!("reading files failed: {e}")))?
}
