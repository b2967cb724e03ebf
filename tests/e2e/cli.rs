//! The `aos` command line: scriptable output and one-line start-up failures.

use e2e::{aos_bin, fresh_database};
use std::process::Command;

fn aos(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    Command::new(aos_bin())
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .expect("run aos")
}

#[test]
fn help_lists_the_commands() {
    let out = aos(&["--help"], &[]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for command in ["serve", "migrate", "tenant", "user", "apikey", "demo"] {
        assert!(help.contains(command), "{command} missing from:\n{help}");
    }
}

fn assert_one_line_failure(out: &std::process::Output, needle: &str) {
    assert_eq!(out.status.code(), Some(1), "exit code");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got:\n{stderr}");
    assert!(
        lines[0].starts_with("aos: error:") && lines[0].contains(needle),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn missing_or_unreachable_dependencies_stop_start_up_with_one_line() {
    let secret = ("AOS_JWT_SECRET", e2e::JWT_SECRET);
    let out = aos(&["serve"], &[secret]);
    assert_one_line_failure(&out, "DATABASE_URL");

    let out = aos(
        &["serve"],
        &[
            secret,
            ("DATABASE_URL", "postgres://aos_app:aos_app@127.0.0.1:1/aos"),
        ],
    );
    assert_one_line_failure(
        &out,
        "cannot connect to PostgreSQL at postgres://aos_app:***@127.0.0.1:1/aos",
    );

    let out = aos(
        &["serve"],
        &[("DATABASE_URL", "postgres://x@127.0.0.1:1/aos")],
    );
    assert_one_line_failure(&out, "AOS_JWT_SECRET");

    let out = aos(&["serve"], &[("AOS_BIND", "not-an-address")]);
    assert_one_line_failure(&out, "AOS_BIND");
}

#[tokio::test]
async fn unreachable_redis_stops_serve_with_one_line() {
    let database_url = fresh_database().await;
    let out = aos(
        &["serve", "--bind", "127.0.0.1:0"],
        &[
            ("AOS_JWT_SECRET", e2e::JWT_SECRET),
            ("DATABASE_URL", &database_url),
            ("REDIS_URL", "redis://127.0.0.1:1"),
        ],
    );
    assert_one_line_failure(&out, "cannot connect to Redis at redis://127.0.0.1:1");
}

#[tokio::test]
async fn tenant_user_and_key_commands_print_what_they_made() {
    let database_url = fresh_database().await;
    let env = [("DATABASE_URL", database_url.as_str())];
    let out = aos(&["tenant", "create", "--name", "Initech"], &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tenant = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    uuid::Uuid::parse_str(&tenant).expect("prints the tenant id alone");

    let out = aos(
        &[
            "user",
            "create",
            "--tenant",
            &tenant,
            "--email",
            "pm@initech.example",
            "--password",
            "tps-reports-2026",
            "--role",
            "approver",
        ],
        &env,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    uuid::Uuid::parse_str(String::from_utf8(out.stdout).unwrap().trim())
        .expect("prints the user id");

    let out = aos(
        &["apikey", "create", "--tenant", &tenant, "--role", "viewer"],
        &env,
    );
    assert!(out.status.success());
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .trim()
            .starts_with("aos_")
    );

    let unknown = uuid::Uuid::new_v4().to_string();
    let out = aos(
        &["apikey", "create", "--tenant", &unknown, "--role", "viewer"],
        &env,
    );
    assert_one_line_failure(&out, "does not exist");

    // The demo seed builds the whole demo company, and is idempotent.
    let model_dir = std::env::var("AOS_MODEL_DIR").unwrap();
    let redis_url = std::env::var("REDIS_URL").unwrap();
    let source = e2e::fresh_database().await;
    let source_name = source.rsplit('/').next().unwrap().to_owned();
    let source_url =
        e2e::with_database(&std::env::var("AOS_TEST_ADMIN_URL").unwrap(), &source_name);
    let data_dir = std::env::temp_dir().join(format!("aos-demo-{}", uuid::Uuid::new_v4().simple()));
    let data_dir_text = data_dir.to_string_lossy().into_owned();
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    let env = [
        ("DATABASE_URL", database_url.as_str()),
        ("AOS_MODEL_DIR", model_dir.as_str()),
        ("REDIS_URL", redis_url.as_str()),
        ("AOS_REDIS_PREFIX", prefix.as_str()),
        ("AOS_DATA_DIR", data_dir_text.as_str()),
        ("AOS_DEMO_SOURCE_URL", source_url.as_str()),
        ("AOS_JWT_SECRET", e2e::JWT_SECRET),
    ];
    for _ in 0..2 {
        let out = aos(&["demo", "seed"], &env);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let pool = sqlx::PgPool::connect(&database_url).await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("select set_config('app.tenant_id', 'de300000-0000-4000-8000-000000000001', true)")
        .execute(&mut *tx)
        .await
        .unwrap();
    let count = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql);
    let documents = count("select count(*) from documents")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert!(documents >= 30, "{documents} documents");
    let status: String =
        sqlx::query_scalar("select status from connectors where name = 'ops-files'")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    assert_eq!(status, "drifted", "the ticket file changed shape");
    let connectors = count("select count(*) from connectors")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(connectors, 3);
    let pending = count("select count(*) from mapping_proposals where status = 'pending'")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert!(pending >= 3, "{pending} pending proposals");
    let shadow = count("select count(*) from assets where kind = 'application' and not sanctioned")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert!(shadow >= 5, "{shadow} unsanctioned apps");
    let pii = count("select count(*) from assets where cardinality(pii_kinds) > 0")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert!(pii >= 2, "{pii} assets with PII");
    let runs = count("select count(*) from agent_runs where status = 'succeeded'")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(
        runs, 3,
        "one run of each agent, not repeated by the second seed"
    );
    let records = count("select count(*) from canonical_records")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert!(records > 1000, "{records} canonical records");
    drop(tx);

    // Mappings as CSV: export what the seed approved, import with a bad row.
    let demo = "de300000-0000-4000-8000-000000000001";
    let out = aos(&["mappings", "export", "--tenant", demo], &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(
        csv.starts_with("connector,source_entity,source_field,canonical_entity,canonical_field")
    );
    assert!(
        csv.contains("ops-files,cloud_costs.csv,unblended_cost,cloud_cost,cost_usd"),
        "{csv}"
    );
    let file = data_dir.join("import.csv");
    std::fs::write(
        &file,
        "connector,source_entity,source_field,canonical_entity,canonical_field\n\
         ops-files,shipments.json,vendor,shipment,vendor\n\
         nowhere,x.csv,a,ticket,team\n",
    )
    .unwrap();
    let out = aos(
        &[
            "mappings",
            "import",
            "--tenant",
            demo,
            file.to_str().unwrap(),
        ],
        &env,
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("row 2") && stderr.contains("1 mapping(s) applied"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&data_dir);
}
