//! Scanning PostgreSQL: PII found by column names and by sampled values, and
//! clear failures for a refused password or a closed port.

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tools::discovery::{self, AssetKind, DiscoveryError, DiscoveryTarget, Evidence, Sensitivity};
use tools::pii::PiiKind;
use tools::{Decision, Role, ToolError};

use super::{add_connector, asset, column, count, invoke, warehouse, warehouse_target};
use crate::support::TestPlatform;

#[tokio::test]
async fn postgres_scan_finds_pii_by_column_names_and_by_values() {
    let tp = TestPlatform::new(vec![]).await;
    warehouse(&tp).await;

    let report = discovery::discover(&tp.platform, tp.tenant, &warehouse_target())
        .await
        .unwrap();
    assert_eq!(report.assets_found, 4, "{report:?}");
    assert_eq!((report.assets_with_pii, report.pii_columns), (3, 5));
    assert_eq!(report.source, "postgres:warehouse");
    assert_eq!(
        report.summary(),
        "Scanned PostgreSQL connector `warehouse`: 4 assets, 3 holding PII (5 PII columns)"
    );

    let customers = asset(&tp, "src.customers").await;
    assert_eq!(customers.kind, AssetKind::Table);
    assert_eq!(customers.sensitivity, Sensitivity::Restricted);
    assert_eq!(customers.row_estimate, Some(10));
    assert_eq!(customers.owner.as_deref(), Some("postgres"));
    assert!(customers.sanctioned);
    assert_eq!(customers.pii_kinds, [PiiKind::Email, PiiKind::Phone]);
    for tag in ["src", "pii", "email", "phone"] {
        assert!(
            customers.tags.iter().any(|t| t == tag),
            "{tag} in {:?}",
            customers.tags
        );
    }
    let email = column(&customers, "contact_email");
    assert_eq!(
        (email.pii.as_slice(), email.detected_by.as_slice()),
        (
            [PiiKind::Email].as_slice(),
            [Evidence::Name, Evidence::Values].as_slice()
        )
    );
    assert_eq!(email.data_type, "text");
    // One note in ten holds an email: below the 20 % a column needs.
    assert!(column(&customers, "notes").pii.is_empty());
    assert!(column(&customers, "full_name").pii.is_empty());

    let payments = asset(&tp, "src.payments").await;
    let card = column(&payments, "card");
    assert_eq!(
        (card.pii.as_slice(), card.detected_by.as_slice()),
        (
            [PiiKind::CardNumber].as_slice(),
            [Evidence::Values].as_slice()
        )
    );
    assert_eq!(column(&payments, "iban").pii, [PiiKind::Iban]);
    assert_eq!(column(&payments, "amount").data_type, "numeric(10,2)");

    let employees = asset(&tp, "src.employees").await;
    assert_eq!(column(&employees, "tax_ref").pii, [PiiKind::NationalId]);

    let products = asset(&tp, "src.products").await;
    assert_eq!(products.sensitivity, Sensitivity::Internal);
    assert!(products.pii_kinds.is_empty() && !products.tags.iter().any(|t| t == "pii"));

    // The run is recorded; scanning again updates the same assets.
    let mut tx = tools::begin_tenant(&tp.pool, tp.tenant).await.unwrap();
    let run: (String, i32, i32, Value) =
        sqlx::query_as("select status, assets_found, pii_columns, target from discovery_runs")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    drop(tx);
    assert_eq!((run.0.as_str(), run.1, run.2), ("succeeded", 4, 5));
    assert!(
        !run.3.to_string().contains(&tp.admin_url),
        "no URL in the run's target"
    );
    discovery::discover(&tp.platform, tp.tenant, &warehouse_target())
        .await
        .unwrap();
    assert_eq!(count(&tp, "assets").await, 4);
    assert_eq!(asset(&tp, "src.customers").await.id, customers.id);
    assert_eq!(count(&tp, "discovery_runs").await, 2);
}

/// Accepts a connection like PostgreSQL, asks for the password, and refuses
/// it with the real error (SQLSTATE 28P01).
async fn refusing_postgres() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                // An SSLRequest (answered `N`), then the StartupMessage.
                loop {
                    let len = socket.read_u32().await.unwrap() as usize;
                    let mut body = vec![0; len - 4];
                    socket.read_exact(&mut body).await.unwrap();
                    if body[..4] == 80_877_103u32.to_be_bytes() {
                        socket.write_all(b"N").await.unwrap();
                        continue;
                    }
                    break;
                }
                socket
                    .write_all(&[b'R', 0, 0, 0, 8, 0, 0, 0, 3])
                    .await
                    .unwrap();
                let _tag = socket.read_u8().await.unwrap();
                let len = socket.read_u32().await.unwrap() as usize;
                let mut password = vec![0; len - 4];
                socket.read_exact(&mut password).await.unwrap();
                let mut fields = Vec::new();
                for (code, value) in [
                    (b'S', "FATAL"),
                    (b'V', "FATAL"),
                    (b'C', "28P01"),
                    (b'M', "password authentication failed for user \"app\""),
                ] {
                    fields.push(code);
                    fields.extend_from_slice(value.as_bytes());
                    fields.push(0);
                }
                fields.push(0);
                let mut message = vec![b'E'];
                message.extend_from_slice(&(fields.len() as u32 + 4).to_be_bytes());
                message.extend_from_slice(&fields);
                socket.write_all(&message).await.unwrap();
            });
        }
    });
    port
}

#[tokio::test]
async fn wrong_passwords_and_unreachable_hosts_fail_clearly() {
    let tp = TestPlatform::new(vec![]).await;
    let port = refusing_postgres().await;
    add_connector(
        &tp,
        "refusing",
        "postgres",
        json!({"url": format!("postgres://app:wrong@127.0.0.1:{port}/crm")}),
    )
    .await;
    add_connector(
        &tp,
        "closed",
        "supabase",
        json!({"url": "postgres://app:pw@127.0.0.1:1/crm"}),
    )
    .await;
    add_connector(&tp, "no url", "postgres", json!({"host": "x"})).await;

    let refused = discovery::discover(
        &tp.platform,
        tp.tenant,
        &DiscoveryTarget::Connector {
            connector: "refusing".into(),
        },
    )
    .await;
    match refused {
        Err(DiscoveryError::Source(message)) => {
            assert_eq!(
                message,
                format!("PostgreSQL at 127.0.0.1:{port} rejected the password for user `app`")
            );
        }
        other => panic!("expected a source error, got {other:?}"),
    }
    let closed = discovery::discover(
        &tp.platform,
        tp.tenant,
        &DiscoveryTarget::Connector {
            connector: "closed".into(),
        },
    )
    .await;
    match closed {
        Err(DiscoveryError::Source(message)) => {
            assert!(
                message.starts_with("cannot reach PostgreSQL at 127.0.0.1:1"),
                "{message}"
            );
        }
        other => panic!("expected a source error, got {other:?}"),
    }
    let no_url = discovery::discover(
        &tp.platform,
        tp.tenant,
        &DiscoveryTarget::Connector {
            connector: "no url".into(),
        },
    )
    .await;
    assert!(
        matches!(&no_url, Err(DiscoveryError::BadTarget(m))
            if m.starts_with("connector `no url` has an unreadable config: ") && m.contains("`url`")),
        "{no_url:?}"
    );

    let mut tx = tools::begin_tenant(&tp.pool, tp.tenant).await.unwrap();
    let runs: Vec<(String, Option<String>)> =
        sqlx::query_as("select status, error from discovery_runs order by started_at")
            .fetch_all(&mut *tx)
            .await
            .unwrap();
    drop(tx);
    assert_eq!(
        runs.len(),
        2,
        "a target that cannot be resolved starts no run"
    );
    assert!(
        runs.iter()
            .all(|(status, error)| status == "failed" && error.is_some())
    );
    assert_eq!(count(&tp, "assets").await, 0);

    // Through an approval, the failure is the approval's outcome.
    let Err(ToolError::NeedsApproval(approval)) = invoke(
        &tp,
        Role::Analyst,
        "run_discovery",
        json!({"connector": "closed"}),
    )
    .await
    else {
        panic!("expected an approval");
    };
    let decided = tp
        .registry
        .decide(
            &tp.ctx(Role::Approver),
            approval.id,
            Decision::Approve,
            None,
        )
        .await
        .unwrap();
    assert_eq!(decided.status, tools::ApprovalStatus::Failed);
    assert!(
        decided
            .error
            .unwrap()
            .contains("cannot reach PostgreSQL at 127.0.0.1:1")
    );
}
