//! The official `openai` Python client against `/v1/chat/completions`
//! (streamed and not) and `/v1/models`: `tests/python/openai_client_check.py`
//! run with the gateway as its base URL and an API key.
//!
//! The client's python is `AOS_OPENAI_PYTHON` when set (scripts/test.sh sets
//! it from `scripts/python-openai.sh`); otherwise that script is run here, and
//! makes the virtualenv on first use.

use e2e::spawn_app;
use std::path::PathBuf;
use std::time::Duration;
use tokio::process::Command;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The python that has the pinned `openai` client.
async fn openai_python() -> String {
    if let Ok(python) = std::env::var("AOS_OPENAI_PYTHON")
        && !python.is_empty()
    {
        return python;
    }
    let out = tokio::time::timeout(
        Duration::from_secs(300),
        Command::new("bash")
            .arg(repo_root().join("scripts/python-openai.sh"))
            .output(),
    )
    .await
    .expect("scripts/python-openai.sh within 5 minutes")
    .expect("run scripts/python-openai.sh");
    assert!(
        out.status.success(),
        "scripts/python-openai.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

#[tokio::test]
async fn the_official_openai_python_client_streams_and_completes() {
    let python = openai_python().await;
    let app = spawn_app().await;
    let tenant = app.seed_tenant("Pyco").await;
    let admin = app.admin_token(&tenant).await;
    let key = app.api_key(&admin, "analyst").await;

    let out = tokio::time::timeout(
        Duration::from_secs(60),
        Command::new(&python)
            .arg(repo_root().join("tests/python/openai_client_check.py"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("OPENAI_BASE_URL", app.url("/v1"))
            .env("OPENAI_API_KEY", &key)
            .output(),
    )
    .await
    .expect("the Python check finishes within 60 s")
    .expect("run the Python check");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the openai client check failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains(": ok ("), "{stdout}");

    // What the client did was recorded as the key's conversations.
    let list = e2e::expect_json(
        app.client
            .get(app.url("/api/v1/conversations"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(list["conversations"].as_array().unwrap().len(), 2);
}
