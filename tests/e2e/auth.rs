//! Sign-in, sessions, tokens, API keys and roles.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use e2e::{JWT_SECRET, PASSWORD, expect_error, expect_json, spawn_app};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

#[tokio::test]
async fn sign_in_refresh_rotation_and_sign_out() {
    let app = spawn_app().await;
    let tenant = app.seed_tenant("Acme").await;
    let session = app.login(&tenant.admin_email, &tenant.password).await;
    let access = session["access_token"].as_str().unwrap();
    let refresh = session["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(session["token_type"], "Bearer");
    assert_eq!(session["user"]["role"], "admin");
    assert!(session["user"].get("password_hash").is_none());

    let me = expect_json(
        app.client
            .get(app.url("/api/v1/me"))
            .bearer_auth(access)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(me["tenant"]["id"], tenant.id.to_string());
    assert_eq!(me["user"]["email"], tenant.admin_email);

    // Refresh rotates: the new token works once, the old one is spent.
    let rotated = expect_json(
        app.client
            .post(app.url("/api/v1/auth/refresh"))
            .json(&json!({ "refresh_token": refresh }))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let next = rotated["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(next, refresh);

    // Replaying the spent token is refused and revokes the whole family.
    let replay = app
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .json(&json!({ "refresh_token": refresh }))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(replay, 401).await, "unauthorized");
    let after_reuse = app
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .json(&json!({ "refresh_token": next }))
        .send()
        .await
        .unwrap();
    assert_eq!(after_reuse.status(), 401, "reuse must revoke descendants");

    // Sign out ends a fresh session.
    let session = app.login(&tenant.admin_email, &tenant.password).await;
    let refresh = session["refresh_token"].as_str().unwrap();
    let out = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .json(&json!({ "refresh_token": refresh }))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    let again = app
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .json(&json!({ "refresh_token": refresh }))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 401);
}

#[tokio::test]
async fn wrong_password_and_unknown_email_look_the_same() {
    let app = spawn_app().await;
    let tenant = app.seed_tenant("Acme").await;
    for (email, password) in [
        (tenant.admin_email.as_str(), "wrong password!"),
        ("nobody@example.com", PASSWORD),
    ] {
        let res = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap();
        let body = expect_json(res, 401).await;
        assert_eq!(body["message"], "email or password is incorrect");
    }
}

fn claims(tenant: &str, user: &str, role: &str, exp_offset: i64) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    json!({ "sub": user, "tid": tenant, "role": role, "iat": now, "exp": now + exp_offset,
            "jti": uuid::Uuid::new_v4(), "typ": "access" })
}

#[tokio::test]
async fn expired_tampered_unsigned_and_foreign_tokens_are_refused() {
    let app = spawn_app().await;
    let tenant = app.seed_tenant("Acme").await;
    let session = app.login(&tenant.admin_email, &tenant.password).await;
    let user = session["user"]["id"].as_str().unwrap();
    let tid = tenant.id.to_string();
    let key = EncodingKey::from_secret(JWT_SECRET.as_bytes()).unwrap();

    // Sanity: a token forged with the right secret works, so the refusals below mean something.
    let good = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(&tid, user, "admin", 600),
        &key,
    )
    .unwrap();
    assert_eq!(
        app.client
            .get(app.url("/api/v1/me"))
            .bearer_auth(&good)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let expired = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(&tid, user, "admin", -120),
        &key,
    )
    .unwrap();
    let other_key = EncodingKey::from_secret(b"some-other-secret-some-other-secret").unwrap();
    let foreign = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(&tid, user, "admin", 600),
        &other_key,
    )
    .unwrap();
    let hs512 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &claims(&tid, user, "admin", 600),
        &key,
    )
    .unwrap();
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims(&tid, user, "admin", 600).to_string())
    );
    // Tamper: raise the role in the payload, keep the signature.
    let access = session["access_token"].as_str().unwrap();
    let mut parts: Vec<String> = access.split('.').map(str::to_owned).collect();
    let mut payload: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    payload["tid"] = json!(uuid::Uuid::new_v4());
    parts[1] = URL_SAFE_NO_PAD.encode(payload.to_string());
    let tampered = parts.join(".");

    for (label, token) in [
        ("expired", expired),
        ("foreign", foreign),
        ("hs512", hs512),
        ("alg none", unsigned),
        ("tampered", tampered),
        ("garbage", "not-a-token".into()),
    ] {
        let res = app
            .client
            .get(app.url("/api/v1/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            expect_error(res, 401).await,
            "unauthorized",
            "{label} token"
        );
    }
    let res = app.client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(expect_error(res, 401).await, "unauthorized");
    let res = app
        .client
        .get(app.url("/api/v1/me"))
        .header("authorization", "Basic Zm9vOmJhcg==")
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(res, 401).await, "unauthorized");
}

#[tokio::test]
async fn api_keys_are_shown_once_work_and_stop_when_revoked() {
    let app = spawn_app().await;
    let tenant = app.seed_tenant("Acme").await;
    let admin = app.admin_token(&tenant).await;
    let created = expect_json(
        app.client
            .post(app.url("/api/v1/api-keys"))
            .bearer_auth(&admin)
            .json(&json!({ "name": "etl", "role": "analyst" }))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let key = created["key"].as_str().unwrap();
    let prefix = created["api_key"]["prefix"].as_str().unwrap();
    assert!(key.starts_with(prefix) && key.len() > prefix.len() + 30);

    let me = expect_json(
        app.client
            .get(app.url("/api/v1/me"))
            .bearer_auth(key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(me["role"], "analyst");
    assert_eq!(me["tenant"]["id"], tenant.id.to_string());

    let listed = expect_json(
        app.client
            .get(app.url("/api/v1/api-keys"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert!(
        !listed.to_string().contains(key),
        "the secret must never be listed"
    );
    assert!(listed.to_string().contains(prefix));

    // An analyst key cannot manage keys.
    let res = app
        .client
        .get(app.url("/api/v1/api-keys"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(res, 403).await, "forbidden");

    // A key with a right prefix and a wrong secret is refused.
    let forged = format!("{prefix}_{}", "A".repeat(43));
    assert_eq!(
        app.client
            .get(app.url("/api/v1/me"))
            .bearer_auth(&forged)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    let id = created["api_key"]["id"].as_str().unwrap();
    let revoked = expect_json(
        app.client
            .delete(app.url(&format!("/api/v1/api-keys/{id}")))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert!(revoked["revoked_at"].is_string());
    assert_eq!(
        app.client
            .get(app.url("/api/v1/me"))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

#[tokio::test]
async fn roles_below_admin_cannot_administer() {
    let app = spawn_app().await;
    let tenant = app.seed_tenant("Acme").await;
    let admin = app.admin_token(&tenant).await;
    for role in ["viewer", "analyst", "approver"] {
        let (_, token) = app.user_with_role(&admin, role).await;
        let list = app
            .client
            .get(app.url("/api/v1/users"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            expect_error(list, 403).await,
            "forbidden",
            "{role} listing users"
        );
        let create = app
            .client
            .post(app.url("/api/v1/users"))
            .bearer_auth(&token)
            .json(&json!({ "email": "x@example.com", "password": PASSWORD, "role": "admin" }))
            .send()
            .await
            .unwrap();
        assert_eq!(create.status(), 403, "{role} creating an admin");
        let key = app
            .client
            .post(app.url("/api/v1/api-keys"))
            .bearer_auth(&token)
            .json(&json!({ "name": "k", "role": "admin" }))
            .send()
            .await
            .unwrap();
        assert_eq!(key.status(), 403, "{role} creating a key");
        // Everyone may ask who they are.
        assert_eq!(
            app.client
                .get(app.url("/api/v1/me"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
}

#[tokio::test]
async fn admins_manage_users_and_disabling_ends_sessions() {
    let app = spawn_app().await;
    let tenant = app.seed_tenant("Acme").await;
    let admin = app.admin_token(&tenant).await;
    let email = "casey@example.com";
    let created = expect_json(
        app.client.post(app.url("/api/v1/users")).bearer_auth(&admin)
            .json(&json!({ "email": "Casey@Example.com", "password": PASSWORD, "role": "analyst", "persona": "cto", "display_name": "Casey" }))
            .send().await.unwrap(),
        201,
    )
    .await;
    assert_eq!(created["email"], email);
    assert_eq!(created["persona"], "cto");
    let id = created["id"].as_str().unwrap();

    let dup = app
        .client
        .post(app.url("/api/v1/users"))
        .bearer_auth(&admin)
        .json(&json!({ "email": email, "password": PASSWORD, "role": "viewer" }))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(dup, 409).await, "conflict");

    let session = app.login(email, PASSWORD).await;
    let changed = expect_json(
        app.client
            .patch(app.url(&format!("/api/v1/users/{id}")))
            .bearer_auth(&admin)
            .json(&json!({ "role": "approver", "persona": null, "disabled": true }))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(
        (
            changed["role"].as_str(),
            changed["persona"].is_null(),
            changed["disabled"].as_bool()
        ),
        (Some("approver"), true, Some(true))
    );
    let refresh = app
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .json(&json!({ "refresh_token": session["refresh_token"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(refresh.status(), 401, "disabling revokes refresh tokens");
    let login = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 401, "disabled users cannot sign in");

    // The disabled user's unexpired access token stops working at once.
    let access = session["access_token"].as_str().unwrap();
    let res = app
        .client
        .get(app.url("/api/v1/knowledge/documents"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(res, 401).await, "unauthorized");

    // The last admin cannot remove or demote themself.
    let me = expect_json(
        app.client
            .get(app.url("/api/v1/me"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let admin_id = me["user"]["id"].as_str().unwrap();
    let demote = app
        .client
        .patch(app.url(&format!("/api/v1/users/{admin_id}")))
        .bearer_auth(&admin)
        .json(&json!({ "role": "viewer" }))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(demote, 409).await, "conflict");
    let delete = app
        .client
        .delete(app.url(&format!("/api/v1/users/{admin_id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), 409);

    let delete = app
        .client
        .delete(app.url(&format!("/api/v1/users/{id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), 204);
    let gone = app
        .client
        .get(app.url(&format!("/api/v1/users/{id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(gone, 404).await, "not_found");
}
