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

    // The demo seed is idempotent.
    let model_dir = std::env::var("AOS_MODEL_DIR").unwrap();
    let env = [
        ("DATABASE_URL", database_url.as_str()),
        ("AOS_MODEL_DIR", model_dir.as_str()),
    ];
    for _ in 0..2 {
        let out = aos(&["demo", "seed"], &env);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
