//! The tools and approvals REST API against the real binary: listing by role,
//! invoking, bad arguments, an action that waits for a human, decided once.

use e2e::{AppOptions, expect_error, expect_json, spawn_app_with};
use serde_json::{Value, json};

fn demo_files() -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo/platform");
    std::fs::canonicalize(root)
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[tokio::test]
async fn actions_become_approvals_that_are_decided_once_by_an_allowed_role() {
    let root = demo_files();
    let app = spawn_app_with(AppOptions {
        env: vec![("AOS_FILE_ROOTS".into(), root.clone())],
        ..Default::default()
    })
    .await;
    let tenant = app.seed_tenant("Toolco").await;
    let admin = app.admin_token(&tenant).await;
    let (_, viewer) = app.user_with_role(&admin, "viewer").await;
    let (_, analyst) = app.user_with_role(&admin, "analyst").await;
    let (_, approver) = app.user_with_role(&admin, "approver").await;

    // A viewer sees read-only tools only; a persona narrows the list.
    let listed = expect_json(
        app.client
            .get(app.url("/api/v1/tools"))
            .bearer_auth(&viewer)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let names: Vec<&str> = listed["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"search_assets") && names.contains(&"run_agent"),
        "{names:?}"
    );
    assert!(!names.contains(&"run_discovery"), "{names:?}");
    let tool = &listed["tools"][0];
    assert_eq!(tool["parameters"]["type"], "object");
    let cro = expect_json(
        app.client
            .get(app.url("/api/v1/tools?persona=cro"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let cro_names: Vec<&str> = cro["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(!cro_names.contains(&"list_shadow_it"), "{cro_names:?}");

    let invoke = |token: &str, name: &str, body: Value| {
        app.client
            .post(app.url(&format!("/api/v1/tools/{name}/invoke")))
            .bearer_auth(token)
            .json(&body)
            .send()
    };

    // Bad arguments are a 422 naming the problem; an unknown tool a 404.
    let res = invoke(
        &analyst,
        "search_assets",
        json!({"arguments": {"limit": "many"}}),
    )
    .await
    .unwrap();
    assert_eq!(expect_error(res, 422).await, "validation_error");
    let res = invoke(&analyst, "format_disk", json!({})).await.unwrap();
    assert_eq!(expect_error(res, 404).await, "not_found");
    // A viewer may not even ask for an action.
    let res = invoke(
        &viewer,
        "run_discovery",
        json!({"arguments": {"files_path": format!("{root}/files")}}),
    )
    .await
    .unwrap();
    assert_eq!(expect_error(res, 403).await, "forbidden");
    // A path outside the allowed roots is refused before any approval exists.
    let res = invoke(
        &analyst,
        "run_discovery",
        json!({"arguments": {"files_path": "/etc"}}),
    )
    .await
    .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());

    // An analyst asks; the action waits for a decision and has not run.
    let args = json!({"arguments": {"files_path": format!("{root}/files")}});
    let requested = expect_json(
        invoke(&analyst, "run_discovery", args.clone())
            .await
            .unwrap(),
        202,
    )
    .await;
    assert_eq!(requested["status"], "approval_required");
    let approval = requested["approval"].clone();
    let id = approval["id"].as_str().unwrap().to_owned();
    assert_eq!(approval["status"], "pending");
    let assets = expect_json(
        invoke(&analyst, "search_assets", json!({"arguments": {}}))
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(assets["status"], "ok");
    assert!(
        assets["data"].to_string().matches("cloud_costs").count() == 0,
        "nothing scanned before approval: {assets}"
    );
    // Asking again finds the same pending approval.
    let again = expect_json(invoke(&analyst, "run_discovery", args).await.unwrap(), 202).await;
    assert_eq!(again["approval"]["id"], id.as_str());

    let decide = |token: &str, decision: &str| {
        app.client
            .post(app.url(&format!("/api/v1/approvals/{id}/decide")))
            .bearer_auth(token)
            .json(&json!({"decision": decision, "comment": "ok"}))
            .send()
    };
    let res = decide(&viewer, "approve").await.unwrap();
    assert_eq!(expect_error(res, 403).await, "forbidden");
    let res = decide(&analyst, "approve").await.unwrap();
    assert_eq!(expect_error(res, 403).await, "forbidden");

    // Two approvers at once: exactly one decision applies.
    let (a, b) = tokio::join!(decide(&approver, "approve"), decide(&admin, "approve"));
    let statuses = [a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
    assert!(
        statuses.contains(&200) && statuses.contains(&409),
        "{statuses:?}"
    );
    let decided = expect_json(
        app.client
            .get(app.url(&format!("/api/v1/approvals/{id}")))
            .bearer_auth(&viewer)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(decided["status"], "executed", "{decided}");
    let res = decide(&approver, "reject").await.unwrap();
    assert_eq!(expect_error(res, 409).await, "conflict");

    // Now the scan has run.
    let assets = expect_json(
        invoke(
            &analyst,
            "search_assets",
            json!({"arguments": {"query": "cloud_costs"}}),
        )
        .await
        .unwrap(),
        200,
    )
    .await;
    assert!(
        assets["data"].to_string().contains("cloud_costs"),
        "{assets}"
    );

    let pending = expect_json(
        app.client
            .get(app.url("/api/v1/approvals?status=pending"))
            .bearer_auth(&viewer)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(pending["approvals"].as_array().unwrap().len(), 0);

    // Another tenant sees neither the approval nor the assets.
    let other = app.seed_tenant("Othertools").await;
    let other_admin = app.admin_token(&other).await;
    let res = app
        .client
        .get(app.url(&format!("/api/v1/approvals/{id}")))
        .bearer_auth(&other_admin)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(res, 404).await, "not_found");
    let res = app
        .client
        .post(app.url(&format!("/api/v1/approvals/{id}/decide")))
        .bearer_auth(&other_admin)
        .json(&json!({"decision": "reject"}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(res, 404).await, "not_found");
    let theirs = expect_json(
        invoke(
            &other_admin,
            "search_assets",
            json!({"arguments": {"query": "cloud_costs"}}),
        )
        .await
        .unwrap(),
        200,
    )
    .await;
    assert!(
        !theirs["data"].to_string().contains("cloud_costs"),
        "{theirs}"
    );

    // Malformed decisions.
    let res = app
        .client
        .post(app.url(&format!("/api/v1/approvals/{id}/decide")))
        .bearer_auth(&admin)
        .json(&json!({"decision": "maybe"}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(res, 422).await, "validation_error");
    let res = app
        .client
        .post(app.url("/api/v1/approvals/not-a-uuid/decide"))
        .bearer_auth(&admin)
        .json(&json!({"decision": "approve"}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(res, 400).await, "bad_request");
}
