//! Health, readiness, metrics, API docs, request ids and graceful shutdown.

use e2e::{AppOptions, expect_json, spawn_app, spawn_app_with};
use std::process::Stdio;
use std::time::Duration;

#[tokio::test]
async fn health_metrics_docs_and_request_ids() {
    let app = spawn_app().await;
    let health = expect_json(
        app.client.get(app.url("/healthz")).send().await.unwrap(),
        200,
    )
    .await;
    assert_eq!(health["status"], "ok");
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert!(ready.headers().contains_key("x-request-id"));
    let ready = expect_json(ready, 200).await;
    assert_eq!(
        (ready["postgres"].as_str(), ready["redis"].as_str()),
        (Some("ok"), Some("ok"))
    );

    let spec = expect_json(
        app.client
            .get(app.url("/api/openapi.json"))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert!(spec["openapi"].as_str().unwrap().starts_with('3'));
    for path in [
        "/api/v1/auth/login",
        "/api/v1/users/{id}",
        "/api/v1/api-keys",
        "/readyz",
    ] {
        assert!(
            spec["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
    let docs = app.client.get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));

    app.client
        .get(app.url("/no/such/page"))
        .send()
        .await
        .unwrap();
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"http_requests_total{method="GET",route="/healthz",status="200"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"route="unmatched",status="404""#),
        "{metrics}"
    );
    assert!(
        metrics.contains("http_request_duration_seconds_bucket"),
        "{metrics}"
    );
}

/// A redis-server on `port` that keeps nothing on disk, stopped when dropped.
fn redis_server(port: u16) -> tokio::process::Child {
    let bin = std::env::var("AOS_REDIS_SERVER_BIN").unwrap_or_else(|_| "redis-server".into());
    tokio::process::Command::new(bin)
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start redis-server")
}

/// Starts a throwaway Redis on a free port so that stopping it harms no other test.
async fn private_redis() -> (tokio::process::Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = redis_server(port);
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return (child, port);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("redis-server did not start");
}

#[tokio::test]
async fn readiness_follows_redis_down_and_back() {
    let (mut redis, port) = private_redis().await;
    let redis_url = format!("redis://127.0.0.1:{port}");
    let app = spawn_app_with(AppOptions {
        redis_url: Some(redis_url),
        ..Default::default()
    })
    .await;
    assert_eq!(
        app.client
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    redis.kill().await.unwrap();
    let down = expect_json(
        app.client.get(app.url("/readyz")).send().await.unwrap(),
        503,
    )
    .await;
    assert_eq!(down["status"], "unavailable");
    assert_eq!(down["postgres"], "ok");
    assert_ne!(down["redis"], "ok");
    // Liveness is not readiness: the process is still fine.
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let _redis = redis_server(port);
    let mut status = 0;
    for _ in 0..60 {
        status = app
            .client
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(status, 200, "readiness recovers when Redis returns");
}

#[tokio::test]
async fn sigterm_finishes_in_flight_requests_then_exits() {
    let app = spawn_app().await;
    let tenant = app.seed_tenant("Acme").await;
    // Sign-in runs a deliberately slow password hash: a request worth waiting for.
    let client = app.client.clone();
    let url = app.url("/api/v1/auth/login");
    let body = serde_json::json!({ "email": tenant.admin_email, "password": tenant.password });
    let in_flight = tokio::spawn(async move {
        client
            .post(url)
            .json(&body)
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    tokio::time::sleep(Duration::from_millis(30)).await;
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &app.pid().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert_eq!(
        in_flight.await.unwrap().unwrap(),
        200,
        "the in-flight request completes"
    );
    assert_eq!(app.wait().await, Some(0), "clean exit after SIGTERM");
}
