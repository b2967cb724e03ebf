//! Shadow IT from SSO and expense logs against the approved list.

use serde_json::json;
use tools::Role;
use tools::discovery::{self, AssetKind, DiscoveryTarget};

use super::{asset, fixtures, invoke};
use crate::support::TestPlatform;

#[tokio::test]
async fn shadow_it_lists_only_applications_off_the_approved_list() {
    let logs = fixtures().join("logs");
    let tp = TestPlatform::new(vec![logs.clone()]).await;
    let mut tx = tools::begin_tenant(&tp.pool, tp.tenant).await.unwrap();
    let approved = discovery::parse_app_list("# IT list\nSlack\ngoogle  workspace\n");
    assert_eq!(
        discovery::set_approved_apps(&mut tx, &approved)
            .await
            .unwrap(),
        2
    );
    tx.commit().await.unwrap();

    let target = DiscoveryTarget::AppLogs {
        sso_log: Some(logs.join("sso_log.csv").display().to_string()),
        expenses: Some(logs.join("expenses.csv").display().to_string()),
    };
    let report = discovery::discover(&tp.platform, tp.tenant, &target)
        .await
        .unwrap();
    assert_eq!((report.assets_found, report.unsanctioned_apps), (6, 4));
    assert_eq!(
        report.summary(),
        "Scanned sso_log.csv and expenses.csv: 6 applications, 4 not on the approved list"
    );

    let output = invoke(&tp, Role::Viewer, "list_shadow_it", json!({}))
        .await
        .unwrap();
    let apps = output.data["applications"].as_array().unwrap();
    let names: Vec<&str> = apps.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["ChatGPT", "Notion", "Miro", "Airtable"]);
    let chatgpt = &apps[0];
    assert_eq!(
        (chatgpt["users"].as_u64(), chatgpt["events"].as_u64()),
        (Some(5), Some(6))
    );
    assert_eq!(chatgpt["spend_usd"], 40.0);
    assert_eq!(
        (
            chatgpt["first_seen"].as_str(),
            chatgpt["last_seen"].as_str()
        ),
        (Some("2026-10-05"), Some("2026-11-02"))
    );
    assert_eq!(chatgpt["sources"], json!(["sso", "expenses"]));
    assert_eq!(output.data["spend_usd"], 376.0);
    assert_eq!(
        output.summary,
        "4 unsanctioned applications, $376 expensed in all: ChatGPT (5 users, $40 spend), Notion (2 users, $96 spend), Miro (1 user, $240 spend) and 1 more"
    );
    let slack = asset(&tp, "slack").await;
    assert!(slack.sanctioned && slack.kind == AssetKind::Application);

    // Approving an app takes it off the list at once.
    let mut tx = tools::begin_tenant(&tp.pool, tp.tenant).await.unwrap();
    discovery::set_approved_apps(&mut tx, &["Slack", "Google Workspace", "NOTION"])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let output = invoke(&tp, Role::Viewer, "list_shadow_it", json!({"limit": 2}))
        .await
        .unwrap();
    assert_eq!(output.data["total"], 3);
    let names: Vec<&str> = output.data["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ChatGPT", "Miro"]);
    let notion = asset(&tp, "notion").await;
    assert!(notion.sanctioned && !notion.tags.iter().any(|t| t == "shadow_it"));
}
