//! Tests of the connectors module: config validation, health checks against
//! sources that refuse or cannot be reached, file and PostgreSQL syncs
//! through approved mappings, drift, the connector tools and tenant isolation.

// Helpers outside `#[test]` functions fail loudly too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tools::connectors::{
    self, Connector, ConnectorError, ConnectorKind, ConnectorStatus, NewConnector, SyncRun,
};
use tools::{Actor, Decision, InvokeOptions, Role, ToolError, mapping};
use uuid::Uuid;

use crate::support::TestPlatform;

/// A fresh folder under the system temp dir, to pass as a file root;
/// removed with everything in it when dropped.
pub struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn scratch_root() -> Scratch {
    let dir = std::env::temp_dir().join(format!("aos-connectors-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/connectors")
        .join(name)
}

/// A folder `name` in `root` holding the fixtures `(fixture, as)`.
pub fn folder_with(root: &Path, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for (from, to) in files {
        std::fs::copy(fixture(from), dir.join(to)).unwrap();
    }
    dir
}

pub async fn files_connector(tp: &TestPlatform, name: &str, dir: &Path) -> Connector {
    connectors::create(
        &tp.platform,
        tp.tenant,
        Actor::User(tp.user(Role::Admin)),
        NewConnector {
            name: name.into(),
            kind: ConnectorKind::Files,
            config: json!({"path": dir.to_string_lossy()}),
        },
    )
    .await
    .unwrap()
}

/// Approves every pending proposal of one source entity; returns how many.
pub async fn approve_all(tp: &TestPlatform, connector_id: Uuid, entity: &str) -> usize {
    let mut tx = tools::begin_tenant(&tp.pool, tp.tenant).await.unwrap();
    let pending = mapping::list_pending(&mut tx, Some(connector_id), 100)
        .await
        .unwrap();
    let mut n = 0;
    for p in pending.iter().filter(|p| p.source_entity == entity) {
        mapping::approve(&mut tx, p.id, Actor::User(tp.user(Role::Approver)))
            .await
            .unwrap();
        n += 1;
    }
    tx.commit().await.unwrap();
    n
}

/// Queues a sync and runs it here, as a worker would.
pub async fn sync_now(tp: &TestPlatform, connector_id: Uuid) -> SyncRun {
    let run = connectors::queue_sync(&tp.platform, tp.tenant, connector_id, None)
        .await
        .unwrap();
    assert_eq!(run.status, "queued");
    connectors::execute_sync_run(&tp.platform, tp.tenant, run.id)
        .await
        .unwrap();
    let mut tx = tools::begin_tenant(&tp.pool, tp.tenant).await.unwrap();
    connectors::get_run(&mut tx, run.id).await.unwrap().unwrap()
}

pub async fn get_connector(tp: &TestPlatform, id: Uuid) -> Connector {
    let mut tx = tools::begin_tenant(&tp.pool, tp.tenant).await.unwrap();
    connectors::get(&mut tx, id).await.unwrap().unwrap()
}

/// The canonical records of `entity` a connector wrote, by key.
pub async fn records(tp: &TestPlatform, connector_id: Uuid, entity: &str) -> Vec<(String, Value)> {
    let mut tx = tools::begin_tenant(&tp.pool, tp.tenant).await.unwrap();
    sqlx::query_as(
        "select source_key, data from canonical_records where connector_id = $1 and entity = $2
         order by source_key",
    )
    .bind(connector_id)
    .bind(entity)
    .fetch_all(&mut *tx)
    .await
    .unwrap()
}

/// A server speaking just enough of the PostgreSQL wire protocol to ask for a
/// password and refuse it, as a server with password authentication does
/// (the test cluster trusts local connections, so it never refuses one).
async fn password_refusing_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let user = loop {
                    let len = socket.read_i32().await.unwrap() as usize;
                    let mut body = vec![0u8; len - 4];
                    socket.read_exact(&mut body).await.unwrap();
                    let code = i32::from_be_bytes(body[..4].try_into().unwrap());
                    if code == 80_877_103 || code == 80_877_104 {
                        // SSL or GSS encryption request: not offered.
                        socket.write_all(b"N").await.unwrap();
                        continue;
                    }
                    let params: Vec<String> = body[4..]
                        .split(|b| *b == 0)
                        .map(|s| String::from_utf8_lossy(s).into_owned())
                        .collect();
                    let at = params.iter().position(|p| p == "user").unwrap();
                    break params[at + 1].clone();
                };
                // AuthenticationCleartextPassword, then read the password message.
                socket
                    .write_all(&[b'R', 0, 0, 0, 8, 0, 0, 0, 3])
                    .await
                    .unwrap();
                let _tag = socket.read_u8().await.unwrap();
                let len = socket.read_i32().await.unwrap() as usize;
                let mut password = vec![0u8; len - 4];
                socket.read_exact(&mut password).await.unwrap();
                let message = format!("password authentication failed for user \"{user}\"");
                let mut fields = Vec::new();
                for (code, text) in [
                    (b'S', "FATAL"),
                    (b'V', "FATAL"),
                    (b'C', "28P01"),
                    (b'M', message.as_str()),
                ] {
                    fields.push(code);
                    fields.extend_from_slice(text.as_bytes());
                    fields.push(0);
                }
                fields.push(0);
                let mut reply = vec![b'E'];
                reply.extend_from_slice(&(fields.len() as i32 + 4).to_be_bytes());
                reply.extend_from_slice(&fields);
                socket.write_all(&reply).await.unwrap();
            });
        }
    });
    port
}

/// A local port nothing listens on.
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

async fn postgres_connector(
    tp: &TestPlatform,
    name: &str,
    url: &str,
    schemas: &[&str],
) -> Connector {
    connectors::create(
        &tp.platform,
        tp.tenant,
        Actor::User(tp.user(Role::Admin)),
        NewConnector {
            name: name.into(),
            kind: ConnectorKind::Postgres,
            config: json!({"url": url, "schemas": schemas}),
        },
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn configs_are_validated_with_clear_messages() {
    let root = scratch_root();
    let inside = folder_with(&root, "files", &[("tickets.csv", "tickets.csv")]);
    let outside = scratch_root();
    let tp = TestPlatform::new(vec![root.to_path_buf()]).await;
    let create = |name: &str, kind: ConnectorKind, config: Value| {
        connectors::create(
            &tp.platform,
            tp.tenant,
            Actor::System,
            NewConnector {
                name: name.into(),
                kind,
                config,
            },
        )
    };
    let invalid = |result: Result<Connector, ConnectorError>| match result {
        Err(ConnectorError::InvalidConfig(message)) => message,
        other => panic!("expected an invalid config, got {other:?}"),
    };

    let message = invalid(create("a", ConnectorKind::Postgres, json!({})).await);
    assert!(message.contains("needs a `url`"), "{message}");
    let message = invalid(
        create(
            "a",
            ConnectorKind::Postgres,
            json!({"url": "mysql://u:p@h/db"}),
        )
        .await,
    );
    assert!(message.contains("postgres://"), "{message}");
    let message = invalid(
        create(
            "a",
            ConnectorKind::Supabase,
            json!({"url": "postgres://u:secret@h:99999/db"}),
        )
        .await,
    );
    assert!(message.contains("not a port number"), "{message}");
    let message = invalid(
        create(
            "a",
            ConnectorKind::Postgres,
            json!({"url": "postgres://u:p@h/db", "schema": ["x"]}),
        )
        .await,
    );
    assert!(message.contains("unknown field `schema`"), "{message}");
    // A sealed value is the server's to write, never the user's.
    let message = invalid(
        create(
            "a",
            ConnectorKind::Postgres,
            json!({"url": "postgres://u:p@h/db", "url_sealed": "v1.AAAA"}),
        )
        .await,
    );
    assert!(message.contains("unknown field `url_sealed`"), "{message}");
    let message = invalid(create("a", ConnectorKind::Files, json!({})).await);
    assert!(message.contains("needs a `path`"), "{message}");
    let message = invalid(
        create(
            "a",
            ConnectorKind::Files,
            json!({"path": outside.to_string_lossy()}),
        )
        .await,
    );
    assert!(message.contains("outside the folders"), "{message}");
    let message = invalid(
        create(
            "a",
            ConnectorKind::Files,
            json!({"path": root.join("nope").to_string_lossy()}),
        )
        .await,
    );
    assert!(message.contains("cannot open"), "{message}");
    let message = invalid(
        create(
            "a",
            ConnectorKind::Files,
            json!({"path": inside.join("tickets.csv").to_string_lossy()}),
        )
        .await,
    );
    assert!(message.contains("not a folder"), "{message}");
    let message = invalid(
        create(
            " ",
            ConnectorKind::Files,
            json!({"path": inside.to_string_lossy()}),
        )
        .await,
    );
    assert!(message.contains("name"), "{message}");

    let made = create(
        "support-files",
        ConnectorKind::Files,
        json!({"path": inside.to_string_lossy()}),
    )
    .await
    .unwrap();
    assert_eq!(made.status, ConnectorStatus::Unknown);
    let again = create(
        "support-files",
        ConnectorKind::Files,
        json!({"path": inside.to_string_lossy()}),
    )
    .await;
    match again {
        Err(e @ ConnectorError::NameTaken(_)) => {
            assert_eq!(
                e.to_string(),
                "a connector named `support-files` already exists"
            )
        }
        other => panic!("expected a name conflict, got {other:?}"),
    }

    // The password never shows.
    let pg = create(
        "crm",
        ConnectorKind::Supabase,
        json!({"url": "postgres://app:hunter2@db.example.com:6543/crm"}),
    )
    .await
    .unwrap();
    let shown = serde_json::to_string(&pg).unwrap();
    assert!(
        !shown.contains("hunter2") && shown.contains("app:***@db.example.com"),
        "{shown}"
    );
    assert!(!format!("{pg:?}").contains("hunter2"));
    let mut tx = tools::begin_tenant(&tp.pool, tp.tenant).await.unwrap();
    assert_eq!(
        connectors::find(&mut tx, "crm")
            .await
            .unwrap()
            .unwrap()
            .kind,
        ConnectorKind::Supabase
    );
    assert_eq!(
        connectors::find(&mut tx, &pg.id.to_string())
            .await
            .unwrap()
            .unwrap()
            .name,
        "crm"
    );
    drop(tx);
    connectors::delete(&tp.platform, tp.tenant, Actor::System, pg.id)
        .await
        .unwrap();
    assert!(matches!(
        connectors::delete(&tp.platform, tp.tenant, Actor::System, pg.id).await,
        Err(ConnectorError::NotFound(_))
    ));
}

#[tokio::test]
async fn wrong_password_and_unreachable_host_mark_the_connector_failing() {
    let tp = TestPlatform::new(vec![]).await;
    let refusing = password_refusing_server().await;
    let bad_password = postgres_connector(
        &tp,
        "billing-db",
        &format!("postgres://billing_reader:wrong@127.0.0.1:{refusing}/billing"),
        &[],
    )
    .await;
    // At rest the URL is sealed: the password is nowhere in the row.
    let mut tx = tools::begin_tenant(&tp.pool, tp.tenant).await.unwrap();
    let (stored,): (Value,) = sqlx::query_as("select config from connectors where id = $1")
        .bind(bad_password.id)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    drop(tx);
    assert!(!stored.to_string().contains("wrong"), "{stored}");
    assert_eq!(
        stored["url"],
        format!("postgres://billing_reader:***@127.0.0.1:{refusing}/billing")
    );
    assert!(
        stored["url_sealed"]
            .as_str()
            .is_some_and(|s| s.starts_with("v1."))
    );
    let health = connectors::check_health(&tp.platform, tp.tenant, bad_password.id)
        .await
        .unwrap();
    assert!(!health.ok);
    assert_eq!(
        health.detail,
        "password authentication failed for user \"billing_reader\""
    );
    assert_eq!(health.connector.status, ConnectorStatus::Failing);
    assert_eq!(
        health.connector.status_detail.as_deref(),
        Some(health.detail.as_str())
    );
    assert!(health.connector.last_health_at.is_some());

    let port = closed_port().await;
    let unreachable = postgres_connector(
        &tp,
        "warehouse",
        &format!("postgres://u:p@127.0.0.1:{port}/dw"),
        &[],
    )
    .await;
    let output = tp
        .registry
        .invoke(
            &tp.ctx(Role::Viewer),
            "connector_health",
            json!({"connector": "warehouse"}),
            InvokeOptions::default(),
        )
        .await
        .unwrap();
    assert!(
        output.summary.starts_with(&format!(
            "`warehouse` (postgres) is failing: cannot reach 127.0.0.1:{port}"
        )),
        "{}",
        output.summary
    );
    assert_eq!(output.data["ok"], false);
    assert_eq!(
        get_connector(&tp, unreachable.id).await.status,
        ConnectorStatus::Failing
    );

    let dns = postgres_connector(
        &tp,
        "nowhere",
        "postgres://u:p@no-such-host.invalid:5432/db",
        &[],
    )
    .await;
    let health = connectors::check_health(&tp.platform, tp.tenant, dns.id)
        .await
        .unwrap();
    assert!(
        health
            .detail
            .starts_with("cannot reach no-such-host.invalid:5432"),
        "{}",
        health.detail
    );

    // A sync of an unreachable source fails cleanly, with the reason.
    let run = sync_now(&tp, unreachable.id).await;
    assert_eq!(run.status, "failed");
    assert!(
        run.errors[0]["error"]
            .as_str()
            .unwrap()
            .contains("cannot reach"),
        "{}",
        run.errors
    );
    assert!(run.finished_at.is_some());

    let listed = tp
        .registry
        .invoke(
            &tp.ctx(Role::Viewer),
            "list_connectors",
            json!({}),
            InvokeOptions::default(),
        )
        .await
        .unwrap();
    assert!(
        listed.summary.starts_with("3 connector(s): 3 failing;"),
        "{}",
        listed.summary
    );
    assert!(
        listed.summary.contains("password authentication failed"),
        "{}",
        listed.summary
    );
    assert_eq!(listed.data["connectors"][2]["last_run"]["status"], "failed");
}

/// The fixture cloud costs with a ragged row (data row 3) and a row that is
/// not UTF-8 (data row 5).
fn messy_cloud_costs(dir: &Path) {
    let clean = std::fs::read(fixture("cloud_costs.csv")).unwrap();
    let mut lines: Vec<Vec<u8>> = clean.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
    lines[3] = b"2026-08-01,aws,prod-core,S3,customer-exports-prod".to_vec();
    lines[5] =
        b"2026-08-01,aws,staging,EC2,api-staging-\xff\xfe,120.10,platform,staging,4.2".to_vec();
    std::fs::write(dir.join("cloud_costs.csv"), lines.join(&b'\n')).unwrap();
}

#[tokio::test]
async fn a_file_sync_reports_bad_rows_and_writes_the_rest() {
    let root = scratch_root();
    let dir = folder_with(&root, "finops", &[]);
    messy_cloud_costs(&dir);
    let tp = TestPlatform::new(vec![root.to_path_buf()]).await;
    let connector = files_connector(&tp, "finops-files", &dir).await;

    let report = connectors::scan(&tp.platform, tp.tenant, connector.id)
        .await
        .unwrap();
    assert_eq!(report.entities.len(), 1);
    assert!(report.entities[0].first_seen);
    assert!(report.entities[0].proposals_raised >= 8, "{report:?}");
    assert_eq!(
        approve_all(&tp, connector.id, "cloud_costs.csv").await,
        report.entities[0].proposals_raised
    );

    let run = sync_now(&tp, connector.id).await;
    assert_eq!(run.status, "partial", "{run:?}");
    assert_eq!(run.rows_read, 12);
    assert_eq!(run.rows_written, 10);
    let errors = run.errors.as_array().unwrap();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0]["row"], 3);
    assert_eq!(errors[0]["entity"], "cloud_costs.csv");
    assert_eq!(errors[0]["error"], "line 4: expected 9 fields, found 5");
    assert_eq!(errors[1]["row"], 5);
    assert_eq!(errors[1]["error"], "line 6: `resource` is not valid UTF-8");
    assert!(run.duration_ms.is_some());

    let written = records(&tp, connector.id, "cloud_cost").await;
    assert_eq!(written.len(), 10);
    let (key, data) = &written[0];
    assert_eq!(key, "2026-08-01|analytics-warehouse");
    assert_eq!(data["usage_date"], "2026-08-01");
    assert_eq!(data["cost_usd"], json!(512.40));
    assert_eq!(data["provider"], "gcp");
    assert_eq!(data["environment"], "prod");
    assert_eq!(data["cpu_utilization_pct"], Value::Null);
    let connector = get_connector(&tp, connector.id).await;
    assert_eq!(connector.status, ConnectorStatus::Healthy);
    assert!(connector.last_sync_at.is_some());

    // Syncing again upserts: the same records, no duplicates.
    let again = sync_now(&tp, connector.id).await;
    assert_eq!(again.rows_written, 10);
    assert_eq!(records(&tp, connector.id, "cloud_cost").await.len(), 10);
}

async fn create_source_tables(admin_url: &str) {
    let mut admin = PgConnection::connect(admin_url).await.unwrap();
    sqlx::raw_sql(
        "create schema src;
         create table src.invoices (
             invoice_no text primary key, account_id text, amount_due numeric(12,2),
             currency text, issued_on date, due_on date, status text, note text);
         insert into src.invoices values
             ('INV-1', 'ACC-1', 1200.50, 'USD', '2026-07-01', '2026-07-31', 'paid', 'first'),
             ('INV-2', 'ACC-2', 89.99, 'EUR', '2026-07-03', '2026-08-02', 'open', null),
             ('INV-3', 'ACC-1', 15000.00, 'USD', '2026-07-05', '2026-08-04', 'overdue', 'call them');
         create schema other;
         create table other.secrets (k text);",
    )
    .execute(&mut admin)
    .await
    .unwrap();
}

#[tokio::test]
async fn a_postgres_sync_writes_through_approved_mappings_only() {
    let tp = TestPlatform::new(vec![]).await;
    create_source_tables(&tp.admin_url).await;
    let connector = postgres_connector(&tp, "billing", &tp.admin_url, &["src"]).await;

    let health = connectors::check_health(&tp.platform, tp.tenant, connector.id)
        .await
        .unwrap();
    assert!(health.ok, "{}", health.detail);
    assert_eq!(
        health.entities, 1,
        "only the configured schema: {}",
        health.detail
    );
    assert_eq!(health.connector.status, ConnectorStatus::Healthy);

    let report = connectors::scan(&tp.platform, tp.tenant, connector.id)
        .await
        .unwrap();
    assert_eq!(report.entities[0].entity, "src.invoices");
    let mut tx = tools::begin_tenant(&tp.pool, tp.tenant).await.unwrap();
    let pending = mapping::list_pending(&mut tx, Some(connector.id), 100)
        .await
        .unwrap();
    let by_field = |field: &str| pending.iter().find(|p| p.source_field == field).unwrap();
    for (source, target) in [
        ("invoice_no", "invoice_id"),
        ("amount_due", "amount_usd"),
        ("issued_on", "issued_date"),
        ("status", "status"),
        ("currency", "currency"),
    ] {
        let p = by_field(source);
        assert_eq!(
            (p.canonical_entity.as_str(), p.canonical_field.as_str()),
            ("invoice", target),
            "{}",
            p.rationale
        );
    }
    let approver = Actor::User(tp.user(Role::Approver));
    for field in ["invoice_no", "amount_due", "issued_on"] {
        mapping::approve(&mut tx, by_field(field).id, approver)
            .await
            .unwrap();
    }
    mapping::reject(
        &mut tx,
        by_field("status").id,
        approver,
        Some("status codes differ"),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let run = sync_now(&tp, connector.id).await;
    assert_eq!(run.status, "succeeded", "{run:?}");
    assert_eq!((run.rows_read, run.rows_written), (3, 3));
    let written = records(&tp, connector.id, "invoice").await;
    assert_eq!(written.len(), 3);
    assert_eq!(written[0].0, "INV-1");
    assert_eq!(
        written[0].1,
        json!({"invoice_id": "INV-1", "amount_usd": 1200.50, "issued_date": "2026-07-01"}),
        "pending and rejected mappings are not written"
    );
    assert_eq!(written[2].1["amount_usd"], json!(15000.0));
}

#[tokio::test]
async fn drift_marks_the_connector_reports_changes_and_raises_proposals() {
    let root = scratch_root();
    let dir = folder_with(&root, "support", &[("tickets.csv", "tickets.csv")]);
    let tp = TestPlatform::new(vec![root.to_path_buf()]).await;
    let connector = files_connector(&tp, "support-files", &dir).await;
    connectors::scan(&tp.platform, tp.tenant, connector.id)
        .await
        .unwrap();
    assert_eq!(approve_all(&tp, connector.id, "tickets.csv").await, 8);
    let run = sync_now(&tp, connector.id).await;
    assert_eq!(run.status, "succeeded", "{run:?}");
    let first = records(&tp, connector.id, "ticket").await;
    assert_eq!(first[0].1["opened_at"], "2026-08-01T04:02:36Z");
    assert_eq!(first[0].1["team"], "Platform");
    assert_eq!(first[0].1["priority"], "2");
    assert_eq!(first[0].1["sla_hours"], json!(72));

    // The source changes shape: renamed, retyped, added.
    std::fs::copy(fixture("tickets_v2.csv"), dir.join("tickets.csv")).unwrap();
    let run = sync_now(&tp, connector.id).await;
    assert_eq!(run.status, "succeeded", "{run:?}");
    let drifted = get_connector(&tp, connector.id).await;
    assert_eq!(drifted.status, ConnectorStatus::Drifted);
    let detail = drifted.status_detail.unwrap();
    assert!(detail.starts_with("tickets.csv: "), "{detail}");
    assert!(
        detail.contains("renamed assigned_team → owning_team"),
        "{detail}"
    );
    assert!(
        detail.contains("retyped priority integer → text"),
        "{detail}"
    );
    assert!(detail.contains("added channel (text)"), "{detail}");

    // Until `owning_team` is approved, the team is not written; the rest is.
    let second = records(&tp, connector.id, "ticket").await;
    assert_eq!(second.len(), 11);
    assert_eq!(second[0].1["priority"], "P2");
    assert!(second[10].1.get("team").is_none(), "{}", second[10].1);

    let report = tp
        .registry
        .invoke(
            &tp.ctx(Role::Viewer),
            "schema_drift_report",
            json!({"connector": "support-files"}),
            InvokeOptions::default(),
        )
        .await
        .unwrap();
    assert!(
        report.summary.starts_with(
            "1 of 1 observed entit(ies) of `support-files` drifted: support-files/tickets.csv ("
        ),
        "{}",
        report.summary
    );
    let drift = &report.data["drift"][0];
    assert_eq!(drift["current"], true);
    assert_eq!(drift["pending_proposals"], 3);
    let changes: Vec<&str> = drift["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["change"].as_str().unwrap())
        .collect();
    assert_eq!(changes, ["retyped", "renamed", "added"]);
    assert_eq!(drift["changes"][1]["from"], "assigned_team");
    assert_eq!(drift["changes"][1]["value_overlap"], json!(1.0));

    let mut tx = tools::begin_tenant(&tp.pool, tp.tenant).await.unwrap();
    let pending = mapping::list_pending(&mut tx, Some(connector.id), 100)
        .await
        .unwrap();
    drop(tx);
    let mut raised: Vec<(String, String)> = pending
        .iter()
        .map(|p| (p.source_field.clone(), p.target_label()))
        .collect();
    raised.sort();
    assert_eq!(
        raised,
        [
            ("channel".to_owned(), "ticket.channel".to_owned()),
            ("owning_team".to_owned(), "ticket.team".to_owned()),
            ("priority".to_owned(), "ticket.priority".to_owned()),
        ]
    );
    let renamed = pending
        .iter()
        .find(|p| p.source_field == "owning_team")
        .unwrap();
    assert!(
        renamed
            .rationale
            .contains("renamed from `assigned_team` (mapped to ticket.team)"),
        "{}",
        renamed.rationale
    );
    assert!(renamed.confidence > 0.8, "{}", renamed.confidence);
    assert_eq!(renamed.signals["drift"]["change"], "renamed");

    // No new drift on the next look; deciding every proposal resolves it.
    let scan = connectors::scan(&tp.platform, tp.tenant, connector.id)
        .await
        .unwrap();
    assert_eq!(scan.drifted().count(), 0);
    assert_eq!(
        get_connector(&tp, connector.id).await.status,
        ConnectorStatus::Drifted
    );
    approve_all(&tp, connector.id, "tickets.csv").await;
    let settled = get_connector(&tp, connector.id).await;
    assert_eq!(settled.status, ConnectorStatus::Healthy);
    sync_now(&tp, connector.id).await;
    let third = records(&tp, connector.id, "ticket").await;
    assert_eq!(third[10].1["team"], "Platform");
    assert_eq!(third[10].1["channel"], "phone");
}

#[tokio::test]
async fn trigger_sync_waits_for_an_approver_and_runs_once() {
    let root = scratch_root();
    let dir = folder_with(&root, "support", &[("tickets.csv", "tickets.csv")]);
    let tp = TestPlatform::new(vec![root.to_path_buf()]).await;
    let connector = files_connector(&tp, "support-files", &dir).await;
    let analyst = tp.ctx(Role::Analyst);

    let requested = tp
        .registry
        .invoke(
            &analyst,
            "trigger_sync",
            json!({"connector": "support-files"}),
            InvokeOptions::default(),
        )
        .await;
    let approval = match requested {
        Err(ToolError::NeedsApproval(approval)) => approval,
        other => panic!("expected an approval, got {other:?}"),
    };
    assert_eq!(
        approval.summary,
        "sync `support-files` (files): no approved mappings yet, so it only re-checks the schema"
    );
    let runs = |tp: &TestPlatform| {
        let pool = tp.pool.clone();
        let tenant = tp.tenant;
        let id = connector.id;
        async move {
            let mut tx = tools::begin_tenant(&pool, tenant).await.unwrap();
            connectors::list_runs(&mut tx, id, 10).await.unwrap()
        }
    };
    assert!(runs(&tp).await.is_empty(), "nothing runs before a decision");

    let viewer = tp
        .registry
        .decide(&tp.ctx(Role::Viewer), approval.id, Decision::Approve, None)
        .await;
    assert!(
        matches!(viewer, Err(tools::DecideError::Denied { .. })),
        "{viewer:?}"
    );
    assert!(runs(&tp).await.is_empty());

    let approver = tp.ctx(Role::Approver);
    let admin = tp.ctx(Role::Admin);
    let (a, b) = tokio::join!(
        tp.registry
            .decide(&approver, approval.id, Decision::Approve, None),
        tp.registry
            .decide(&admin, approval.id, Decision::Approve, None),
    );
    assert_eq!(
        [a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(),
        1,
        "{a:?} {b:?}"
    );
    let decided = a.or(b).unwrap();
    let result = decided.result.unwrap();
    assert!(
        result["summary"]
            .as_str()
            .unwrap()
            .starts_with("queued sync run "),
        "{result}"
    );
    let queued = runs(&tp).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].approval_id, Some(approval.id));
    assert_eq!(result["data"]["run_id"], json!(queued[0].id));

    // The worker's half.
    connectors::execute_sync_run(&tp.platform, tp.tenant, queued[0].id)
        .await
        .unwrap();
    let mut tx = tools::begin_tenant(&tp.pool, tp.tenant).await.unwrap();
    let run = connectors::get_run(&mut tx, queued[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.status, "succeeded");
    drop(tx);
    // A job delivered twice does not run twice.
    connectors::execute_sync_run(&tp.platform, tp.tenant, run.id)
        .await
        .unwrap();
    assert!(matches!(
        connectors::execute_sync_run(&tp.platform, tp.tenant, Uuid::new_v4()).await,
        Err(ConnectorError::NotFound(_))
    ));
}

#[tokio::test]
async fn bad_tool_arguments_say_why() {
    let tp = TestPlatform::new(vec![]).await;
    let ctx = tp.ctx(Role::Analyst);
    let invoke = |name: &'static str, args: Value| {
        let ctx = ctx.clone();
        let registry = tp.registry.clone();
        async move {
            registry
                .invoke(&ctx, name, args, InvokeOptions::default())
                .await
        }
    };
    match invoke("connector_health", json!({})).await {
        Err(ToolError::BadArgs(reason)) => {
            assert!(reason.contains("missing field `connector`"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    match invoke("list_connectors", json!({"verbose": true})).await {
        Err(ToolError::BadArgs(reason)) => {
            assert!(reason.contains("unknown field `verbose`"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    match invoke("trigger_sync", json!({"connector": 7})).await {
        Err(ToolError::BadArgs(reason)) => {
            assert!(reason.contains("expected a string"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    match invoke("trigger_sync", json!({"connector": "nope"})).await {
        Err(ToolError::NotFound(reason)) => {
            assert_eq!(reason, "there is no connector named `nope`")
        }
        other => panic!("{other:?}"),
    }
    match invoke("schema_drift_report", json!({"connector": "nope"})).await {
        Err(ToolError::NotFound(_)) => {}
        other => panic!("{other:?}"),
    }
    let none = invoke("schema_drift_report", json!({})).await.unwrap();
    assert_eq!(none.summary, "no schema drift across 0 observed entit(ies)");
    match tp
        .registry
        .invoke(
            &tp.ctx(Role::Viewer),
            "trigger_sync",
            json!({"connector": "x"}),
            InvokeOptions::default(),
        )
        .await
    {
        Err(ToolError::Denied(reason)) => assert!(reason.contains("analyst"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn another_tenant_sees_no_connectors_runs_or_drift() {
    let root = scratch_root();
    let dir = folder_with(&root, "support", &[("tickets.csv", "tickets.csv")]);
    let tp = TestPlatform::new(vec![root.to_path_buf()]).await;
    let connector = files_connector(&tp, "support-files", &dir).await;
    connectors::scan(&tp.platform, tp.tenant, connector.id)
        .await
        .unwrap();
    let run = sync_now(&tp, connector.id).await;

    let other = tp.other_tenant().await;
    let mut tx = tools::begin_tenant(&tp.pool, other).await.unwrap();
    assert!(connectors::list(&mut tx).await.unwrap().is_empty());
    assert!(
        connectors::find(&mut tx, "support-files")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        connectors::get(&mut tx, connector.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        connectors::get_run(&mut tx, run.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        connectors::latest_fingerprint(&mut tx, connector.id, "tickets.csv")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        mapping::list_pending(&mut tx, None, 100)
            .await
            .unwrap()
            .is_empty()
    );
    drop(tx);
    assert!(matches!(
        connectors::check_health(&tp.platform, other, connector.id).await,
        Err(ConnectorError::NotFound(_))
    ));
    assert!(matches!(
        connectors::queue_sync(&tp.platform, other, connector.id, None).await,
        Err(ConnectorError::NotFound(_))
    ));
    assert!(matches!(
        connectors::execute_sync_run(&tp.platform, other, run.id).await,
        Err(ConnectorError::NotFound(_))
    ));
    // The same name is free in the other tenant.
    let theirs = connectors::create(
        &tp.platform,
        other,
        Actor::System,
        NewConnector {
            name: "support-files".into(),
            kind: ConnectorKind::Files,
            config: json!({"path": dir.to_string_lossy()}),
        },
    )
    .await
    .unwrap();
    assert_ne!(theirs.id, connector.id);
    let mut ctx = tp.ctx(Role::Admin);
    ctx.caller.tenant = other;
    let listed = tp
        .registry
        .invoke(&ctx, "list_connectors", json!({}), InvokeOptions::default())
        .await
        .unwrap();
    assert_eq!(listed.data["connectors"].as_array().unwrap().len(), 1);
    assert_eq!(listed.data["connectors"][0]["id"], json!(theirs.id));
    assert!(listed.data["connectors"][0]["last_run"].is_null());
}
