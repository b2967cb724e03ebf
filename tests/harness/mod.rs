//! End-to-end test harness: starts the real `aos` binary on port 0 against a
//! fresh PostgreSQL database cloned from the migrated template `aos_template`,
//! and real Redis with a key prefix of its own.
//!
//! Needs the environment that `scripts/test.sh` prepares: `AOS_TEST_ADMIN_URL`
//! (a superuser, to create databases), `DATABASE_URL` (the `aos_app` role) and
//! `REDIS_URL`. `AOS_BIN` overrides where the binary is found.

pub mod fake_openai;
pub mod fake_slack;
pub mod ws;

use serde_json::{Value, json};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use uuid::Uuid;

/// The JWT secret every test server signs with, so tests can forge tokens.
pub const JWT_SECRET: &str = "e2e-test-secret-0123456789abcdef-0123456789";
pub const TEMPLATE_DB: &str = "aos_template";

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through `make test` (scripts/test.sh)")
    })
}

/// Path to the `aos` binary built alongside the tests.
pub fn aos_bin() -> PathBuf {
    if let Ok(path) = std::env::var("AOS_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/e2e-<hash> → target/<profile>/aos
    exe.parent()
        .and_then(|deps| deps.parent())
        .map(|dir| dir.join("aos"))
        .expect("binary directory")
}

/// `url` with its database name replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let cut = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{db}", &base[..cut]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// A fresh database cloned from the migrated template.
pub async fn fresh_database() -> String {
    let admin_url = env("AOS_TEST_ADMIN_URL");
    let name = format!("t_{}", Uuid::new_v4().simple());
    let mut conn = PgConnection::connect(&admin_url)
        .await
        .expect("connect as the test superuser");
    let sql = format!("create database \"{name}\" template {TEMPLATE_DB} owner aos_owner");
    let mut attempts = 0;
    loop {
        // Two clones at the same instant can collide on the template's lock.
        match sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
            .execute(&mut conn)
            .await
        {
            Ok(_) => break,
            Err(e) if attempts < 20 => {
                attempts += 1;
                eprintln!("retrying database clone: {e}");
                tokio::time::sleep(Duration::from_millis(100 * attempts)).await;
            }
            Err(e) => panic!("cannot clone {TEMPLATE_DB}: {e}"),
        }
    }
    with_database(&env("DATABASE_URL"), &name)
}

/// Options for a test server.
#[derive(Default)]
pub struct AppOptions {
    /// Use this Redis instead of the shared one.
    pub redis_url: Option<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
}

/// A running `aos serve` and what it is connected to.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    /// The `aos_app` URL of this test's own database.
    pub database_url: String,
    pub redis_url: String,
    pub redis_prefix: String,
    child: Child,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default()).await
}

pub async fn spawn_app_with(options: AppOptions) -> TestApp {
    let database_url = fresh_database().await;
    let redis_url = options.redis_url.unwrap_or_else(|| env("REDIS_URL"));
    let redis_prefix = format!("test:{}:", Uuid::new_v4().simple());
    serve(database_url, redis_url, redis_prefix, options.env).await
}

/// Starts `aos serve` on these stores and waits until it listens.
async fn serve(
    database_url: String,
    redis_url: String,
    redis_prefix: String,
    extra_env: Vec<(String, String)>,
) -> TestApp {
    let mut command = Command::new(aos_bin());
    command
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &database_url)
        .env("REDIS_URL", &redis_url)
        .env("AOS_REDIS_PREFIX", &redis_prefix)
        .env("AOS_JWT_SECRET", JWT_SECRET)
        .env("AOS_BIND", "127.0.0.1:0")
        .env("AOS_LOG", "warn")
        .env("AOS_MODEL_DIR", env("AOS_MODEL_DIR"))
        .envs(extra_env)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    let mut child = command.spawn().expect("start aos serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let base = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            if let Some(url) = line.strip_prefix("aos listening on ") {
                return url.to_owned();
            }
        }
        panic!("aos serve exited before listening");
    })
    .await
    .expect("aos serve did not start within 30 s");
    // Keep draining stdout so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    TestApp {
        base,
        client: reqwest::Client::new(),
        database_url,
        redis_url,
        redis_prefix,
        child,
    }
}

/// A tenant with an administrator, made through the `aos` command line.
pub struct SeededTenant {
    pub id: Uuid,
    pub admin_email: String,
    pub password: String,
}

pub const PASSWORD: &str = "correct horse battery";

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("running child")
    }

    /// Waits for the server to exit and returns its exit code.
    pub async fn wait(mut self) -> Option<i32> {
        tokio::time::timeout(Duration::from_secs(15), self.child.wait())
            .await
            .expect("server exits within 15 s")
            .expect("wait")
            .code()
    }

    /// Runs an `aos` command against this server's database; returns stdout.
    pub async fn cli(&self, args: &[&str]) -> String {
        let out = Command::new(aos_bin())
            .args(args)
            .env_clear()
            .env("DATABASE_URL", &self.database_url)
            .env("REDIS_URL", &self.redis_url)
            .env("AOS_MODEL_DIR", env("AOS_MODEL_DIR"))
            .env("AOS_JWT_SECRET", JWT_SECRET)
            .output()
            .await
            .expect("run aos");
        assert!(
            out.status.success(),
            "aos {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .expect("utf-8")
            .trim()
            .to_owned()
    }

    /// A new tenant and its admin.
    pub async fn seed_tenant(&self, name: &str) -> SeededTenant {
        let id: Uuid = self
            .cli(&["tenant", "create", "--name", name])
            .await
            .parse()
            .expect("tenant id");
        let admin_email = format!(
            "admin-{}@{}.example",
            Uuid::new_v4().simple(),
            name.to_lowercase()
        );
        self.cli(&[
            "user",
            "create",
            "--tenant",
            &id.to_string(),
            "--email",
            &admin_email,
            "--password",
            PASSWORD,
            "--role",
            "admin",
        ])
        .await;
        SeededTenant {
            id,
            admin_email,
            password: PASSWORD.into(),
        }
    }

    /// Signs in and returns the session body.
    pub async fn login(&self, email: &str, password: &str) -> Value {
        let res = self
            .client
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .expect("login request");
        assert_eq!(res.status(), 200, "login as {email}");
        res.json().await.expect("session json")
    }

    /// An access token for the tenant's admin.
    pub async fn admin_token(&self, tenant: &SeededTenant) -> String {
        let session = self.login(&tenant.admin_email, &tenant.password).await;
        session["access_token"].as_str().expect("token").to_owned()
    }

    /// Creates a user through the API with the given role; returns (id, token).
    pub async fn user_with_role(&self, admin_token: &str, role: &str) -> (Uuid, String) {
        let email = format!("{role}-{}@example.com", Uuid::new_v4().simple());
        let res = self
            .client
            .post(self.url("/api/v1/users"))
            .bearer_auth(admin_token)
            .json(&json!({ "email": email, "password": PASSWORD, "role": role }))
            .send()
            .await
            .expect("create user");
        assert_eq!(res.status(), 201);
        let body: Value = res.json().await.expect("json");
        let id = body["id"].as_str().expect("id").parse().expect("uuid");
        let session = self.login(&email, PASSWORD).await;
        (
            id,
            session["access_token"].as_str().expect("token").to_owned(),
        )
    }

    /// A pool on this test's database as the unprivileged `aos_app` role.
    pub async fn app_pool(&self) -> PgPool {
        PgPoolOptions::new()
            .max_connections(2)
            .connect(&self.database_url)
            .await
            .expect("connect as aos_app")
    }
}

/// Reads a response as JSON, asserting the status first.
pub async fn expect_json(res: reqwest::Response, status: u16) -> Value {
    let actual = res.status().as_u16();
    let text = res.text().await.expect("body");
    assert_eq!(actual, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("body is not JSON: {text}"))
}

/// Asserts the API's error shape and returns its `error_type`.
pub async fn expect_error(res: reqwest::Response, status: u16) -> String {
    let body = expect_json(res, status).await;
    let error_type = body["error_type"].as_str().expect("error_type").to_owned();
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "message in {body}"
    );
    error_type
}

impl TestApp {
    /// Another `aos serve` on this app's database, Redis and key prefix: a
    /// second replica behind the same stores. `env` is its extra environment
    /// (give it what the first one had, e.g. `AOS_FILE_ROOTS`).
    pub async fn spawn_replica(&self, env: Vec<(String, String)>) -> TestApp {
        serve(
            self.database_url.clone(),
            self.redis_url.clone(),
            self.redis_prefix.clone(),
            env,
        )
        .await
    }

    /// The name of this test's database.
    pub fn database_name(&self) -> &str {
        let path = self.database_url.split('?').next().unwrap_or_default();
        path.rsplit('/').next().unwrap_or_default()
    }

    /// A connection to this test's database as the superuser, which row-level
    /// security does not restrict: for setting up rows no API creates.
    pub async fn superuser_connection(&self) -> PgConnection {
        let url = with_database(&env("AOS_TEST_ADMIN_URL"), self.database_name());
        PgConnection::connect(&url)
            .await
            .expect("connect to the test database as the superuser")
    }

    /// A new API key with `role`, made by the admin behind `admin_token`.
    pub async fn api_key(&self, admin_token: &str, role: &str) -> String {
        let res = self
            .client
            .post(self.url("/api/v1/api-keys"))
            .bearer_auth(admin_token)
            .json(&json!({ "name": format!("{role} key"), "role": role }))
            .send()
            .await
            .expect("create an API key");
        let body = expect_json(res, 201).await;
        body["key"].as_str().expect("key").to_owned()
    }
}
