//! Tenant isolation: through the API and in the database itself.

use e2e::{PASSWORD, expect_error, expect_json, spawn_app};
use serde_json::json;
use sqlx::Connection;

#[tokio::test]
async fn a_tenant_cannot_see_or_touch_another_tenants_objects() {
    let app = spawn_app().await;
    let a = app.seed_tenant("Alpha").await;
    let b = app.seed_tenant("Beta").await;
    let a_admin = app.admin_token(&a).await;
    let b_admin = app.admin_token(&b).await;

    let (b_user, _) = app.user_with_role(&b_admin, "analyst").await;
    let b_key = expect_json(
        app.client
            .post(app.url("/api/v1/api-keys"))
            .bearer_auth(&b_admin)
            .json(&json!({ "name": "b", "role": "viewer" }))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let b_key_id = b_key["api_key"]["id"].as_str().unwrap();

    let user_url = app.url(&format!("/api/v1/users/{b_user}"));
    let read = app
        .client
        .get(&user_url)
        .bearer_auth(&a_admin)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(read, 404).await, "not_found");
    let patch = app
        .client
        .patch(&user_url)
        .bearer_auth(&a_admin)
        .json(&json!({ "role": "admin" }))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(patch, 404).await, "not_found");
    let delete = app
        .client
        .delete(&user_url)
        .bearer_auth(&a_admin)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(delete, 404).await, "not_found");
    let revoke = app
        .client
        .delete(app.url(&format!("/api/v1/api-keys/{b_key_id}")))
        .bearer_auth(&a_admin)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(revoke, 404).await, "not_found");

    // Lists show only the caller's tenant.
    let users = expect_json(
        app.client
            .get(app.url("/api/v1/users"))
            .bearer_auth(&a_admin)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let users = users["users"].as_array().unwrap();
    assert_eq!(users.len(), 1);
    assert!(users.iter().all(|u| u["tenant_id"] == a.id.to_string()));
    let keys = expect_json(
        app.client
            .get(app.url("/api/v1/api-keys"))
            .bearer_auth(&a_admin)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert!(keys["api_keys"].as_array().unwrap().is_empty());

    // B's objects are untouched.
    let still = expect_json(
        app.client
            .get(&user_url)
            .bearer_auth(&b_admin)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(still["role"], "analyst");
    let b_me = expect_json(
        app.client
            .get(app.url("/api/v1/me"))
            .bearer_auth(b_key["key"].as_str().unwrap())
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(b_me["tenant"]["id"], b.id.to_string());

    // An email registered in one tenant cannot be registered in another.
    let dup = app
        .client
        .post(app.url("/api/v1/users"))
        .bearer_auth(&a_admin)
        .json(&json!({ "email": b.admin_email, "password": PASSWORD, "role": "viewer" }))
        .send()
        .await
        .unwrap();
    assert_eq!(dup.status(), 409);
}

#[tokio::test]
async fn queries_without_a_tenant_see_nothing_in_the_database() {
    let app = spawn_app().await;
    let a = app.seed_tenant("Alpha").await;
    let b = app.seed_tenant("Beta").await;
    let admin = app.admin_token(&a).await;
    app.client
        .post(app.url("/api/v1/api-keys"))
        .bearer_auth(&admin)
        .json(&json!({ "name": "k", "role": "viewer" }))
        .send()
        .await
        .unwrap();

    let mut conn = sqlx::PgConnection::connect(&app.database_url)
        .await
        .unwrap();
    // The server's role is neither superuser nor BYPASSRLS.
    let (superuser, bypass): (bool, bool) =
        sqlx::query_as("select rolsuper, rolbypassrls from pg_roles where rolname = current_user")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert!(!superuser && !bypass);

    for table in [
        "tenants",
        "users",
        "api_keys",
        "refresh_tokens",
        "audit_log",
    ] {
        let sql = format!("select count(*) from {table}");
        let (count,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(count, 0, "{table} without a tenant");
    }

    // Scoped to A: only A's rows.
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("select set_config('app.tenant_id', $1, true)")
        .bind(a.id.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let tenants: Vec<(uuid::Uuid,)> = sqlx::query_as("select id from tenants")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(tenants, vec![(a.id,)]);
    let (users,): (i64,) = sqlx::query_as("select count(*) from users")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(users, 1);
    let (keys,): (i64,) = sqlx::query_as("select count(*) from api_keys")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(keys, 1);

    // Writing a row for another tenant is refused by the policy.
    let err = sqlx::query("insert into users (id, tenant_id, email, password_hash, role) values ($1, $2, 'x@example.com', 'h', 'admin')")
        .bind(uuid::Uuid::new_v4())
        .bind(b.id)
        .execute(&mut *tx)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("row-level security"), "{err}");
    tx.rollback().await.unwrap();

    // And the role cannot switch the policy off.
    let err = sqlx::query("alter table users disable row level security")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("owner"), "{err}");
}
