//! What a discovery scans (a connector, a folder of files, application logs),
//! resolved and checked before anything runs: the connector exists for the
//! tenant, its config makes sense, every path lies inside the allowed roots.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use uuid::Uuid;

use super::{DiscoveryError, Scan, files, postgres, shadow_it, store};
use crate::connectors::ConnectorConfig;
use crate::platform::Platform;
use crate::tenant::begin_tenant;

/// What to scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DiscoveryTarget {
    /// A configured connector (`postgres`, `supabase` or `files`), by name or id.
    Connector { connector: String },
    /// A folder of CSV/JSON files (or one such file).
    Files { path: String },
    /// An SSO sign-in log and/or an expense export, for shadow IT.
    AppLogs {
        sso_log: Option<String>,
        expenses: Option<String>,
    },
}

/// A checked target, ready to scan.
pub(crate) struct Plan {
    /// What is scanned, in words.
    pub label: String,
    /// What the scan will do, in one line (the approval's summary).
    pub description: String,
    /// The `assets.source` of what it finds.
    pub source: String,
    /// The `discovery_runs.target`: names and ids, never credentials.
    pub run_target: Value,
    spec: Spec,
}

enum Spec {
    Postgres {
        url: String,
        schemas: Option<Vec<String>>,
        supabase: bool,
    },
    Files {
        root: PathBuf,
    },
    AppLogs {
        sso_log: Option<PathBuf>,
        expenses: Option<PathBuf>,
        approved: HashSet<String>,
    },
}

impl Plan {
    pub(crate) async fn scan(&self) -> Result<Scan, DiscoveryError> {
        match &self.spec {
            Spec::Postgres {
                url,
                schemas,
                supabase,
            } => postgres::scan(url, schemas.as_deref(), *supabase).await,
            Spec::Files { root } => {
                let root = root.clone();
                blocking(move || files::scan(&root)).await
            }
            Spec::AppLogs {
                sso_log,
                expenses,
                approved,
            } => {
                let (sso_log, expenses, approved) =
                    (sso_log.clone(), expenses.clone(), approved.clone());
                blocking(move || {
                    shadow_it::scan(sso_log.as_deref(), expenses.as_deref(), &approved)
                })
                .await
            }
        }
    }
}

/// Runs file reading off the async workers.
async fn blocking(
    work: impl FnOnce() -> Result<Scan, DiscoveryError> + Send + 'static,
) -> Result<Scan, DiscoveryError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| DiscoveryError::Source(format!("the scan stopped unexpectedly: {e}")))?
}

pub(crate) async fn resolve(
    platform: &Platform,
    tenant: Uuid,
    target: &DiscoveryTarget,
) -> Result<Plan, DiscoveryError> {
    match target {
        DiscoveryTarget::Connector { connector } => {
            let mut tx = begin_tenant(&platform.pool, tenant).await?;
            let row = store::find_connector(&mut tx, connector)
                .await?
                .ok_or_else(|| {
                    DiscoveryError::NotFound(format!("there is no connector `{connector}`"))
                })?;
            tx.commit().await?;
            connector_plan(platform, row)
        }
        DiscoveryTarget::Files { path } => {
            let root = allowed(platform, path)?;
            let label = format!("the files in {}", root.display());
            let plan = files_plan(
                label,
                format!("files:{}", root.display()),
                root,
                json!({"path": path}),
            )?;
            Ok(plan)
        }
        DiscoveryTarget::AppLogs { sso_log, expenses } => {
            if sso_log.is_none() && expenses.is_none() {
                return Err(DiscoveryError::BadTarget(
                    "give an SSO log, an expense log, or both".into(),
                ));
            }
            let sso_log = sso_log
                .as_deref()
                .map(|p| allowed_file(platform, p))
                .transpose()?;
            let expenses = expenses
                .as_deref()
                .map(|p| allowed_file(platform, p))
                .transpose()?;
            let mut tx = begin_tenant(&platform.pool, tenant).await?;
            let approved = store::approved_apps(&mut tx).await?;
            tx.commit().await?;
            let names: Vec<String> = [&sso_log, &expenses]
                .into_iter()
                .flatten()
                .map(|p| file_name(p))
                .collect();
            let label = names.join(" and ");
            Ok(Plan {
                description: format!(
                    "Check {label} for applications not on the approved list ({} approved)",
                    approved.len()
                ),
                source: shadow_it::SOURCE.into(),
                run_target: json!({"sso_log": sso_log, "expenses": expenses}),
                label,
                spec: Spec::AppLogs {
                    sso_log,
                    expenses,
                    approved,
                },
            })
        }
    }
}

fn connector_plan(platform: &Platform, row: store::ConnectorRow) -> Result<Plan, DiscoveryError> {
    let bad = |what: &str| DiscoveryError::BadTarget(format!("connector `{}` {what}", row.name));
    match row.kind.as_str() {
        "postgres" | "supabase" => {
            let config = row
                .kind
                .parse()
                .and_then(|kind| ConnectorConfig::from_stored(kind, &row.config))
                .map_err(|e| bad(&format!("has an unreadable config: {e}")))?;
            let ConnectorConfig::Postgres(pg) = config else {
                return Err(bad("is not a database connector"));
            };
            let url = pg
                .url(&platform.secrets, row.id)
                .map_err(|e| bad(&format!("cannot be opened: {e}")))?;
            let schemas = Some(pg.schemas).filter(|s| !s.is_empty());
            let supabase = row.kind == "supabase";
            let label = format!(
                "{} connector `{}`",
                if supabase { "Supabase" } else { "PostgreSQL" },
                row.name
            );
            let scope = match &schemas {
                Some(list) if !list.is_empty() => format!("schemas {}", list.join(", ")),
                _ => "all schemas".to_owned(),
            };
            Ok(Plan {
                description: format!(
                    "Scan {label} ({scope}) for tables, columns, row counts and PII"
                ),
                source: format!("{}:{}", row.kind, row.name),
                run_target: json!({"connector_id": row.id, "connector": row.name, "kind": row.kind, "schemas": schemas}),
                label,
                spec: Spec::Postgres {
                    url,
                    schemas,
                    supabase,
                },
            })
        }
        "files" => {
            let path = row
                .config
                .get("path")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("has no `path` in its config"))?;
            let root = allowed(platform, path)?;
            let label = format!("file connector `{}`", row.name);
            let run_target =
                json!({"connector_id": row.id, "connector": row.name, "kind": "files"});
            files_plan(label, format!("files:{}", row.name), root, run_target)
        }
        other => Err(bad(&format!(
            "is a `{other}` connector, which discovery cannot scan"
        ))),
    }
}

fn files_plan(
    label: String,
    source: String,
    root: PathBuf,
    run_target: Value,
) -> Result<Plan, DiscoveryError> {
    let count = files::list(&root)?.len();
    if count == 0 {
        return Err(DiscoveryError::BadTarget(format!(
            "there are no CSV or JSON files in {}",
            root.display()
        )));
    }
    Ok(Plan {
        description: format!(
            "Scan {label} ({count} CSV/JSON files) for columns, row counts and PII"
        ),
        label,
        source,
        run_target,
        spec: Spec::Files { root },
    })
}

/// The canonical path, when it exists and lies inside the allowed roots.
fn allowed(platform: &Platform, path: &str) -> Result<PathBuf, DiscoveryError> {
    if !Path::new(path).exists() {
        return Err(DiscoveryError::NotFound(format!("`{path}` does not exist")));
    }
    platform
        .allowed_path(path)
        .map_err(DiscoveryError::NotAllowed)
}

fn allowed_file(platform: &Platform, path: &str) -> Result<PathBuf, DiscoveryError> {
    let resolved = allowed(platform, path)?;
    if !resolved.is_file() {
        return Err(DiscoveryError::BadTarget(format!("`{path}` is not a file")));
    }
    Ok(resolved)
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}
