//! The demo company's platform: its CRM/billing database (loaded from
//! `demo/platform/source.sql`), its operations files, connectors to both,
//! approved mappings, a first sync, a schema-drift scenario with the mapping
//! proposals it raises, discovery of assets, PII and shadow IT, and a first
//! run of each agent. Each step is skipped when its result already exists, so
//! seeding again changes nothing (and never undoes the drift).

use anyhow::{Context, Result, bail};
use serde_json::json;
use sqlx::Connection;
use std::path::Path;
use tools::connectors::{self, ConnectorKind, NewConnector};
use tools::discovery::{self, DiscoveryTarget};
use tools::{Actor, Platform, agents, mapping};
use uuid::Uuid;

use super::DEMO_DIR;
use crate::settings::Settings;

const FILES_CONNECTOR: &str = "ops-files";
const CRM_CONNECTOR: &str = "crm-supabase";
const PEOPLE_CONNECTOR: &str = "hr-and-payments";

/// Seeds the platform of `tenant`.
pub async fn seed(settings: &Settings, platform: &Platform, tenant: Uuid) -> Result<()> {
    let root = settings.data_dir.join("demo");
    let files = root.join("files");
    let logs = root.join("logs");
    write_demo_files(&files, &logs)?;
    let files_path = std::fs::canonicalize(&files)
        .with_context(|| format!("cannot resolve {}", files.display()))?;
    let logs_path = std::fs::canonicalize(&logs)?;

    let mut connectors_made = vec![(
        FILES_CONNECTOR,
        ConnectorKind::Files,
        json!({"path": files_path.to_string_lossy()}),
    )];
    match &settings.demo_source_url {
        Some(url) => {
            load_source_database(url.expose()).await?;
            connectors_made.push((
                CRM_CONNECTOR,
                ConnectorKind::Supabase,
                json!({"url": url.expose(), "tables": ["crm.accounts", "crm.opportunities", "billing.invoices"]}),
            ));
            connectors_made.push((
                PEOPLE_CONNECTOR,
                ConnectorKind::Postgres,
                json!({"url": url.expose(), "schemas": ["hr", "billing"]}),
            ));
        }
        None => eprintln!(
            "AOS_DEMO_SOURCE_URL is not set: the demo CRM database and its connectors are skipped"
        ),
    }
    let mut fresh = Vec::new();
    for (name, kind, config) in connectors_made {
        let existing = {
            let mut tx = tools::begin_tenant(&platform.pool, tenant).await?;
            connectors::find(&mut tx, name).await?
        };
        if existing.is_none() {
            connectors::create(
                platform,
                tenant,
                Actor::System,
                NewConnector {
                    name: name.into(),
                    kind,
                    config,
                },
            )
            .await
            .with_context(|| format!("cannot create the demo connector {name}"))?;
            fresh.push(name);
        }
    }
    if fresh.is_empty() {
        return Ok(());
    }
    for name in &fresh {
        let id = connector_id(platform, tenant, name).await?;
        connectors::check_health(platform, tenant, id).await?;
    }

    // Approved mappings for the sources the demo starts with.
    let mappings = DEMO_DIR
        .get_file("platform/mappings.csv")
        .context("demo/platform/mappings.csv is missing")?;
    {
        let mut tx = tools::begin_tenant(&platform.pool, tenant).await?;
        let report = mapping::import_csv(&mut tx, mappings.contents(), Actor::System)
            .await
            .context("cannot import the demo mappings")?;
        tx.commit().await?;
        if !report.errors.is_empty() {
            bail!("demo mappings refused: {:?}", report.errors);
        }
    }

    // The first sync of every connector that maps to something.
    for name in [FILES_CONNECTOR, CRM_CONNECTOR] {
        if fresh.contains(&name) {
            sync(platform, tenant, name).await?;
        }
    }

    // The ticket source changes shape: a column renamed, one retyped, one
    // added. The next sync sees it, marks the connector drifted and raises
    // mapping proposals; the new shipments file gets proposals too.
    if fresh.contains(&FILES_CONNECTOR) {
        let v2 = DEMO_DIR
            .get_file("platform/files/tickets_v2.csv")
            .context("demo/platform/files/tickets_v2.csv is missing")?;
        std::fs::write(files.join("tickets.csv"), v2.contents())?;
        sync(platform, tenant, FILES_CONNECTOR).await?;
        let id = connector_id(platform, tenant, FILES_CONNECTOR).await?;
        mapping::propose_for_entity(platform, tenant, id, "shipments.json")
            .await
            .context("cannot propose mappings for shipments.json")?;
    }

    // Discovery: approved apps, then the databases, the files and the logs.
    let approved = DEMO_DIR
        .get_file("platform/logs/approved_apps.txt")
        .and_then(|f| f.contents_utf8())
        .context("demo/platform/logs/approved_apps.txt is missing")?;
    {
        let mut tx = tools::begin_tenant(&platform.pool, tenant).await?;
        discovery::set_approved_apps(&mut tx, &discovery::parse_app_list(approved)).await?;
        tx.commit().await?;
    }
    let mut targets = vec![
        DiscoveryTarget::Connector {
            connector: FILES_CONNECTOR.into(),
        },
        DiscoveryTarget::AppLogs {
            sso_log: Some(logs_path.join("sso_log.csv").to_string_lossy().into_owned()),
            expenses: Some(
                logs_path
                    .join("expenses.csv")
                    .to_string_lossy()
                    .into_owned(),
            ),
        },
    ];
    if settings.demo_source_url.is_some() {
        for connector in [CRM_CONNECTOR, PEOPLE_CONNECTOR] {
            targets.push(DiscoveryTarget::Connector {
                connector: connector.into(),
            });
        }
    }
    for target in &targets {
        discovery::discover(platform, tenant, target)
            .await
            .with_context(|| format!("demo discovery of {target:?} failed"))?;
    }

    // One finished run of each agent, so results are there on first sign-in.
    for agent in [
        agents::Agent::FinOps,
        agents::Agent::RevOps,
        agents::Agent::Ops,
    ] {
        let run = agents::queue_run(
            platform,
            tenant,
            Actor::System,
            agent,
            &agents::RunParameters::default(),
        )
        .await?;
        agents::execute_run(platform, tenant, run.id).await?;
    }
    Ok(())
}

async fn connector_id(platform: &Platform, tenant: Uuid, name: &str) -> Result<Uuid> {
    let mut tx = tools::begin_tenant(&platform.pool, tenant).await?;
    Ok(connectors::find(&mut tx, name)
        .await?
        .with_context(|| format!("the demo connector {name} is missing"))?
        .id)
}

/// Runs a sync now, in this process (the seed does not wait for a worker).
async fn sync(platform: &Platform, tenant: Uuid, name: &str) -> Result<()> {
    let id = connector_id(platform, tenant, name).await?;
    let run = connectors::queue_sync(platform, tenant, id, None).await?;
    // The queued job finds the run finished and is acknowledged without work.
    if let Err(err) = connectors::execute_sync_run(platform, tenant, run.id).await {
        eprintln!("demo sync of {name} reported: {err}");
    }
    Ok(())
}

/// Copies the demo files to the data folder, once (the drift scenario later
/// replaces `tickets.csv`, and a second seed must not undo that).
fn write_demo_files(files: &Path, logs: &Path) -> Result<()> {
    std::fs::create_dir_all(files)?;
    std::fs::create_dir_all(logs)?;
    for name in [
        "cloud_costs.csv",
        "budgets.csv",
        "tickets.csv",
        "shipments.json",
    ] {
        let target = files.join(name);
        if !target.exists() {
            let file = DEMO_DIR
                .get_file(format!("platform/files/{name}"))
                .with_context(|| format!("demo/platform/files/{name} is missing"))?;
            std::fs::write(&target, file.contents())?;
        }
    }
    for name in ["sso_log.csv", "expenses.csv"] {
        let target = logs.join(name);
        if !target.exists() {
            let file = DEMO_DIR
                .get_file(format!("platform/logs/{name}"))
                .with_context(|| format!("demo/platform/logs/{name} is missing"))?;
            std::fs::write(&target, file.contents())?;
        }
    }
    Ok(())
}

/// Creates the demo company's CRM and billing tables (idempotent SQL).
async fn load_source_database(url: &str) -> Result<()> {
    let sql = DEMO_DIR
        .get_file("platform/source.sql")
        .and_then(|f| f.contents_utf8())
        .context("demo/platform/source.sql is missing")?;
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .context("cannot connect to AOS_DEMO_SOURCE_URL")?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .context("cannot load demo/platform/source.sql")?;
    Ok(())
}
