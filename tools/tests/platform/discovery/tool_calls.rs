//! The discovery tools through the registry: search and get, `run_discovery`
//! waiting for an approver, bad arguments, and tenant isolation.

use serde_json::{Value, json};
use tools::InvokeOptions;
use tools::discovery::{self, DiscoveryTarget};
use tools::{Actor, Caller, DecideError, Decision, Role, ToolContext, ToolError};

use super::{asset, count, fixtures, invoke, warehouse, warehouse_target};
use crate::support::TestPlatform;

#[tokio::test]
async fn search_and_get_tools_answer_from_the_catalog() {
    let tp = TestPlatform::new(vec![]).await;
    warehouse(&tp).await;
    let empty = invoke(
        &tp,
        Role::Viewer,
        "search_assets",
        json!({"query": "email"}),
    )
    .await
    .unwrap();
    assert_eq!(
        empty.summary,
        "No assets matching “email” in the catalog; a discovery scan (run_discovery) fills it"
    );
    discovery::discover(&tp.platform, tp.tenant, &warehouse_target())
        .await
        .unwrap();

    let found = invoke(
        &tp,
        Role::Viewer,
        "search_assets",
        json!({"query": "which tables hold card numbers?"}),
    )
    .await
    .unwrap();
    assert_eq!(
        found.data["assets"][0]["qualified_name"], "src.payments",
        "{}",
        found.data
    );
    assert_eq!(found.data["total"], 1);
    assert_eq!(
        found.summary,
        "1 asset matching “which tables hold card numbers?”: src.payments (table, restricted: card_number, iban)"
    );

    let pii = invoke(
        &tp,
        Role::Viewer,
        "search_assets",
        json!({"pii_only": true, "kind": "table"}),
    )
    .await
    .unwrap();
    assert_eq!(pii.data["total"], 3);
    assert!(
        pii.summary.starts_with("3 tables holding PII: "),
        "{}",
        pii.summary
    );
    let internal = invoke(
        &tp,
        Role::Viewer,
        "search_assets",
        json!({"sensitivity": "internal"}),
    )
    .await
    .unwrap();
    assert_eq!(internal.data["assets"][0]["qualified_name"], "src.products");
    assert_eq!(internal.data["total"], 1);
    let by_column = invoke(
        &tp,
        Role::Viewer,
        "search_assets",
        json!({"query": "tax_ref", "limit": 1}),
    )
    .await
    .unwrap();
    assert_eq!(
        by_column.data["assets"][0]["qualified_name"],
        "src.employees"
    );
    assert_eq!(
        by_column.data["assets"][0]["pii_columns"],
        json!([{"name": "tax_ref", "pii": ["national_id"]}])
    );

    let got = invoke(
        &tp,
        Role::Viewer,
        "get_asset",
        json!({"asset": "SRC.CUSTOMERS"}),
    )
    .await
    .unwrap();
    assert_eq!(
        got.summary,
        "src.customers (table from postgres:warehouse): 5 columns, 10 rows, restricted; PII in contact_email (email), phone (phone); owner postgres"
    );
    let columns = got.data["asset"]["columns"].as_array().unwrap();
    assert_eq!(
        columns[2],
        json!({"name": "contact_email", "type": "text", "pii": ["email"], "detected_by": ["name", "values"]})
    );
    let id = got.data["asset"]["id"].as_str().unwrap();
    let by_id = invoke(&tp, Role::Viewer, "get_asset", json!({"asset": id}))
        .await
        .unwrap();
    assert_eq!(by_id.data["asset"]["qualified_name"], "src.customers");
    let missing = invoke(
        &tp,
        Role::Viewer,
        "get_asset",
        json!({"asset": "src.nothing"}),
    )
    .await;
    assert!(
        matches!(missing, Err(ToolError::NotFound(m)) if m == "no asset `src.nothing` in the catalog")
    );

    // Arguments that do not fit the schema come back with serde's reason.
    let bad = invoke(&tp, Role::Viewer, "search_assets", json!({"limit": "ten"})).await;
    assert!(
        matches!(&bad, Err(ToolError::BadArgs(m)) if m.contains("invalid type: string \"ten\"")),
        "{bad:?}"
    );
    let bad = invoke(
        &tp,
        Role::Viewer,
        "search_assets",
        json!({"kind": "database"}),
    )
    .await;
    assert!(
        matches!(&bad, Err(ToolError::BadArgs(m)) if m.contains("unknown variant `database`")),
        "{bad:?}"
    );
    let bad = invoke(
        &tp,
        Role::Viewer,
        "get_asset",
        json!({"name": "src.customers"}),
    )
    .await;
    assert!(
        matches!(&bad, Err(ToolError::BadArgs(m)) if m.contains("unknown field `name`")),
        "{bad:?}"
    );
    let bad = invoke(&tp, Role::Viewer, "list_shadow_it", json!({"limit": 500})).await;
    assert!(
        matches!(&bad, Err(ToolError::BadArgs(m)) if m == "limit must be between 1 and 100, not 500"),
        "{bad:?}"
    );

    let spec = tp.registry.spec("search_assets").unwrap();
    assert!(
        spec.parameters["properties"]["pii_only"].is_object(),
        "{}",
        spec.parameters
    );
}

#[tokio::test]
async fn run_discovery_scans_nothing_until_an_approver_approves() {
    let tp = TestPlatform::new(vec![]).await;
    warehouse(&tp).await;

    let denied = invoke(
        &tp,
        Role::Viewer,
        "run_discovery",
        json!({"connector": "warehouse"}),
    )
    .await;
    assert!(matches!(denied, Err(ToolError::Denied(_))), "{denied:?}");
    let bad = invoke(&tp, Role::Analyst, "run_discovery", json!({"connector": 5})).await;
    assert!(
        matches!(&bad, Err(ToolError::BadArgs(m)) if m.contains("invalid type: integer `5`, expected a string")),
        "{bad:?}"
    );
    let bad = invoke(&tp, Role::Analyst, "run_discovery", json!({})).await;
    assert!(
        matches!(&bad, Err(ToolError::BadArgs(m)) if m.starts_with("give exactly one target")),
        "{bad:?}"
    );
    let missing = invoke(
        &tp,
        Role::Analyst,
        "run_discovery",
        json!({"connector": "nope"}),
    )
    .await;
    assert!(
        matches!(&missing, Err(ToolError::NotFound(m)) if m == "there is no connector `nope`"),
        "{missing:?}"
    );

    let Err(ToolError::NeedsApproval(approval)) = invoke(
        &tp,
        Role::Analyst,
        "run_discovery",
        json!({"connector": "warehouse"}),
    )
    .await
    else {
        panic!("run_discovery must wait for an approval");
    };
    assert_eq!(
        approval.summary,
        "Scan PostgreSQL connector `warehouse` (schemas src) for tables, columns, row counts and PII"
    );
    assert_eq!(approval.decide_role, Role::Approver);
    assert_eq!(
        (
            count(&tp, "assets").await,
            count(&tp, "discovery_runs").await
        ),
        (0, 0)
    );

    let viewer = tp
        .registry
        .decide(&tp.ctx(Role::Viewer), approval.id, Decision::Approve, None)
        .await;
    assert!(
        matches!(viewer, Err(DecideError::Denied { .. })),
        "{viewer:?}"
    );
    let analyst = tp
        .registry
        .decide(&tp.ctx(Role::Analyst), approval.id, Decision::Approve, None)
        .await;
    assert!(
        matches!(analyst, Err(DecideError::Denied { .. })),
        "{analyst:?}"
    );
    assert_eq!(count(&tp, "assets").await, 0);

    let decided = tp
        .registry
        .decide(
            &tp.ctx(Role::Approver),
            approval.id,
            Decision::Approve,
            Some("go"),
        )
        .await
        .unwrap();
    assert_eq!(decided.status, tools::ApprovalStatus::Executed);
    let result = decided.result.unwrap();
    assert_eq!(
        result["summary"],
        "Scanned PostgreSQL connector `warehouse`: 4 assets, 3 holding PII (5 PII columns)"
    );
    assert_eq!(result["data"]["pii_columns"], 5);
    assert_eq!(
        (
            count(&tp, "assets").await,
            count(&tp, "discovery_runs").await
        ),
        (4, 1)
    );
    let again = tp
        .registry
        .decide(&tp.ctx(Role::Admin), approval.id, Decision::Approve, None)
        .await;
    assert!(matches!(again, Err(DecideError::AlreadyDecided(_))));
    assert_eq!(
        count(&tp, "discovery_runs").await,
        1,
        "decided once, scanned once"
    );
}

#[tokio::test]
async fn another_tenant_sees_none_of_the_assets() {
    let logs = fixtures().join("logs");
    let tp = TestPlatform::new(vec![logs.clone()]).await;
    warehouse(&tp).await;
    discovery::discover(&tp.platform, tp.tenant, &warehouse_target())
        .await
        .unwrap();
    let target = DiscoveryTarget::AppLogs {
        sso_log: Some(logs.join("sso_log.csv").display().to_string()),
        expenses: None,
    };
    discovery::discover(&tp.platform, tp.tenant, &target)
        .await
        .unwrap();
    let customers = asset(&tp, "src.customers").await;

    let other = tp.other_tenant().await;
    let ctx = ToolContext {
        platform: tp.platform.clone(),
        caller: Caller {
            tenant: other,
            actor: Actor::System,
            role: Role::Admin,
            persona: None,
        },
        conversation_id: None,
    };
    let call = |tool: &'static str, args: Value| {
        let ctx = ctx.clone();
        let registry = tp.registry.clone();
        async move {
            registry
                .invoke(&ctx, tool, args, InvokeOptions::default())
                .await
        }
    };
    let search = call("search_assets", json!({})).await.unwrap();
    assert_eq!(search.data["total"], 0);
    let search = call("search_assets", json!({"query": "customers"}))
        .await
        .unwrap();
    assert_eq!(search.data["total"], 0);
    let shadow = call("list_shadow_it", json!({})).await.unwrap();
    assert_eq!(shadow.data["total"], 0);
    let by_id = call("get_asset", json!({"asset": customers.id.to_string()})).await;
    assert!(matches!(by_id, Err(ToolError::NotFound(_))));
    let by_name = call("get_asset", json!({"asset": "src.customers"})).await;
    assert!(matches!(by_name, Err(ToolError::NotFound(_))));
    let scan = call("run_discovery", json!({"connector": "warehouse"})).await;
    assert!(
        matches!(scan, Err(ToolError::NotFound(_))),
        "the connector is not theirs: {scan:?}"
    );
}
