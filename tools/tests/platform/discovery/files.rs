//! Scanning folders of CSV/JSON files: ragged rows, invalid UTF-8 and broken
//! JSON lines are reported while the rest is catalogued; paths outside the
//! file roots are refused.

use serde_json::json;
use tools::discovery::{self, AssetKind, DiscoveryError, DiscoveryTarget, Evidence, Sensitivity};
use tools::pii::PiiKind;
use tools::{Role, ToolError};

use super::{Scratch, add_connector, asset, column, count, invoke};
use crate::support::TestPlatform;

#[tokio::test]
async fn file_scan_reports_ragged_rows_and_invalid_utf8_and_keeps_the_rest() {
    let scratch = Scratch::with_files();
    let tp = TestPlatform::new(vec![scratch.0.clone()]).await;

    let target = DiscoveryTarget::Files {
        path: scratch.path(),
    };
    let report = discovery::discover(&tp.platform, tp.tenant, &target)
        .await
        .unwrap();
    let mut names: Vec<&str> = report
        .assets
        .iter()
        .map(|a| a.qualified_name.as_str())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "customers.csv",
            "events.jsonl",
            "latin1.csv",
            "orders.json",
            "ragged.csv"
        ]
    );
    assert_eq!(report.warnings.len(), 3, "{:?}", report.warnings);
    assert!(
        report.warnings.iter().any(|w| w.starts_with(
            "ragged.csv: 2 ragged rows (line 4: 2 fields, expected 3; line 6: 4 fields, expected 3)"
        )),
        "{:?}",
        report.warnings
    );

    let ragged = asset(&tp, "ragged.csv").await;
    assert_eq!(ragged.kind, AssetKind::File);
    assert_eq!(ragged.row_estimate, Some(6));
    assert_eq!(ragged.details["issues"]["ragged_rows"], 2);
    assert_eq!(column(&ragged, "amount").data_type, "number");
    assert_eq!(
        ragged.source,
        format!(
            "files:{}",
            std::fs::canonicalize(&scratch.0).unwrap().display()
        )
    );

    let latin1 = asset(&tp, "latin1.csv").await;
    assert_eq!(latin1.row_estimate, Some(3));
    assert_eq!(latin1.details["issues"]["invalid_utf8_rows"], 1);
    assert_eq!(column(&latin1, "contact").pii, [PiiKind::Email]);
    assert_eq!(latin1.sensitivity, Sensitivity::Restricted);

    let customers = asset(&tp, "customers.csv").await;
    assert_eq!(customers.pii_kinds, [PiiKind::Email, PiiKind::Phone]);
    assert_eq!(
        column(&customers, "phone").detected_by,
        [Evidence::Name, Evidence::Values]
    );
    assert_eq!(column(&customers, "signup_date").data_type, "date");
    assert_eq!(column(&customers, "lifetime_value").data_type, "number");

    let orders = asset(&tp, "orders.json").await;
    assert_eq!(orders.row_estimate, Some(3));
    assert_eq!(column(&orders, "customer.email").pii, [PiiKind::Email]);
    assert_eq!(column(&orders, "items").data_type, "array");

    let events = asset(&tp, "events.jsonl").await;
    assert_eq!(events.row_estimate, Some(3));
    assert_eq!(events.details["issues"]["unreadable_rows"], 1);
    assert_eq!(events.sensitivity, Sensitivity::Internal);
    assert_eq!(column(&events, "at").data_type, "timestamp");

    // A file connector reads its folder from its config, under its own name.
    add_connector(&tp, "drop zone", "files", json!({"path": scratch.path()})).await;
    let report = discovery::discover(
        &tp.platform,
        tp.tenant,
        &DiscoveryTarget::Connector {
            connector: "Drop Zone".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        (report.source.as_str(), report.assets_found),
        ("files:drop zone", 5)
    );
}

#[tokio::test]
async fn paths_outside_the_file_roots_are_refused() {
    let scratch = Scratch::with_files();
    let tp = TestPlatform::new(vec![scratch.0.join("nowhere")]).await;
    let outside = discovery::discover(
        &tp.platform,
        tp.tenant,
        &DiscoveryTarget::Files {
            path: scratch.path(),
        },
    )
    .await;
    assert!(
        matches!(outside, Err(DiscoveryError::NotAllowed(m)) if m.contains("outside the folders"))
    );
    let missing = discovery::discover(
        &tp.platform,
        tp.tenant,
        &DiscoveryTarget::Files {
            path: "/no/such/dir".into(),
        },
    )
    .await;
    assert!(matches!(missing, Err(DiscoveryError::NotFound(_))));
    let result = invoke(
        &tp,
        Role::Analyst,
        "run_discovery",
        json!({"files_path": "/etc"}),
    )
    .await;
    assert!(matches!(result, Err(ToolError::Denied(m)) if m.contains("outside the folders")));
    assert_eq!(count(&tp, "approvals").await, 0);
}
