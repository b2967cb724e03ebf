//! Bad input gets a clear 4xx JSON error, nothing panics, nothing stored is lost.

use e2e::{PASSWORD, expect_error, expect_json, spawn_app};
use serde_json::json;

#[tokio::test]
async fn malformed_oversized_and_invalid_requests_get_clear_errors() {
    let app = spawn_app().await;
    let tenant = app.seed_tenant("Acme").await;
    let admin = app.admin_token(&tenant).await;
    let login = app.url("/api/v1/auth/login");
    let users = app.url("/api/v1/users");

    let cases: Vec<(&str, reqwest::RequestBuilder, u16, &str)> = vec![
        ("malformed json", app.client.post(&login).header("content-type", "application/json").body("{\"email\": "), 400, "bad_request"),
        ("wrong field type", app.client.post(&login).json(&json!({ "email": 42, "password": "x" })), 422, "validation_error"),
        ("missing field", app.client.post(&login).json(&json!({ "email": "a@b.co" })), 422, "validation_error"),
        ("unknown field", app.client.post(&login).json(&json!({ "email": "a@b.co", "password": "x", "admin": true })), 422, "validation_error"),
        ("no content type", app.client.post(&login).body("{}"), 415, "unsupported_media_type"),
        ("empty password", app.client.post(&login).json(&json!({ "email": tenant.admin_email, "password": "" })), 422, "validation_error"),
        ("10 KB email", app.client.post(&login).json(&json!({ "email": format!("{}@example.com", "a".repeat(10_000)), "password": PASSWORD })), 422, "validation_error"),
        ("bad role", app.client.post(&users).bearer_auth(&admin).json(&json!({ "email": "n@example.com", "password": PASSWORD, "role": "root" })), 422, "validation_error"),
        ("short password", app.client.post(&users).bearer_auth(&admin).json(&json!({ "email": "n@example.com", "password": "short", "role": "viewer" })), 422, "validation_error"),
        ("bad email", app.client.post(&users).bearer_auth(&admin).json(&json!({ "email": "not an email", "password": PASSWORD, "role": "viewer" })), 422, "validation_error"),
        ("bad id in path", app.client.get(app.url("/api/v1/users/not-a-uuid")).bearer_auth(&admin), 400, "bad_request"),
        ("bad paging", app.client.get(app.url("/api/v1/users?limit=100000")).bearer_auth(&admin), 422, "validation_error"),
        ("paging not a number", app.client.get(app.url("/api/v1/users?limit=abc")).bearer_auth(&admin), 400, "bad_request"),
        ("unknown route", app.client.get(app.url("/api/v1/nope")), 404, "not_found"),
        ("wrong method", app.client.put(&login), 405, "method_not_allowed"),
        ("empty key name", app.client.post(app.url("/api/v1/api-keys")).bearer_auth(&admin).json(&json!({ "name": "  ", "role": "viewer" })), 422, "validation_error"),
    ];
    for (label, request, status, error_type) in cases {
        let res = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(expect_error(res, status).await, error_type, "{label}");
    }

    // A body over the limit is refused before it is read in full; the server
    // then closes that connection, so it gets a client of its own.
    let oversized = reqwest::Client::new()
        .post(&login)
        .header("content-type", "application/json")
        .body(format!("{{\"email\":\"{}\"}}", "a".repeat(2 * 1024 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(oversized, 413).await, "payload_too_large");

    // Nothing was created by the refused requests and the server still works.
    let list = expect_json(
        app.client
            .get(&users)
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(list["users"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    app.login(&tenant.admin_email, PASSWORD).await;
}
