//! Tests of asset discovery against real sources: a PostgreSQL schema built in
//! the test's own database, a folder of CSV/JSON files (ragged rows and invalid
//! UTF-8 included), SSO and expense logs, a closed port and a server that
//! speaks PostgreSQL's wire protocol only to refuse the password. The tools are
//! called through the registry, as the gateway calls them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod files;
mod postgres;
mod shadow_it;
mod tool_calls;

use serde_json::{Value, json};
use sqlx::Connection;
use std::path::{Path, PathBuf};
use tools::discovery::{self, DiscoveryTarget};
use tools::{InvokeOptions, Role, ToolError};
use uuid::Uuid;

use crate::support::TestPlatform;

// ---------------------------------------------------------------- sources

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/discovery")
}

/// A folder of its own for a test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    /// The data fixtures, plus a Latin-1 CSV (invalid UTF-8), a hidden CSV and
    /// a text file the scan must leave alone.
    fn with_files() -> Scratch {
        let dir = std::env::temp_dir().join(format!("aos-discovery-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(fixtures()).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
            }
        }
        std::fs::write(
            dir.join("latin1.csv"),
            b"id,contact,city\n1,ana@example.org,S\xe3o Paulo\n2,joao@example.org,Lisbon\n3,li@example.org,Porto\n",
        )
        .unwrap();
        std::fs::write(dir.join(".hidden.csv"), "email\nx@example.org\n").unwrap();
        std::fs::write(dir.join("readme.txt"), "not data").unwrap();
        Scratch(dir)
    }

    fn path(&self) -> String {
        self.0.display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// A card number with a valid Luhn check digit after `body`.
fn card(body: &str) -> String {
    let sum: u32 = format!("{body}0")
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// A German IBAN with valid check digits for an 18-digit `bban`.
fn iban(bban: &str) -> String {
    let digits: u128 = format!("{bban}131400").parse().unwrap();
    format!("DE{:02}{bban}", 98 - digits % 97)
}

/// `src` in the test's database: customers (PII by name and values), payments
/// (a card column whose name says nothing), employees (SSNs under `tax_ref`)
/// and products (no PII).
async fn source_schema(tp: &TestPlatform) {
    let mut conn = sqlx::PgConnection::connect(&tp.admin_url).await.unwrap();
    sqlx::raw_sql(
        "create schema src;
         create table src.customers (id int primary key, full_name text, contact_email text, phone text, notes text);
         create table src.payments (id int primary key, customer_id int, card text, iban text, amount numeric(10,2));
         create table src.employees (id int primary key, name text, tax_ref text, hired_on date);
         create table src.products (sku text primary key, title text, price numeric(10,2));",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    for i in 1..=10 {
        let notes = if i == 3 {
            "asked to be mailed at other@example.net"
        } else {
            "renewal due"
        };
        sqlx::query("insert into src.customers values ($1, $2, $3, $4, $5)")
            .bind(i)
            .bind(format!("Customer {i}"))
            .bind(format!("customer{i}@example.com"))
            .bind(format!("(415) 555-01{i:02}"))
            .bind(notes)
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("insert into src.payments values ($1, $1, $2, $3, 10.5)")
            .bind(i)
            .bind(card(&format!("4111000000{i:05}")))
            .bind(iban(&format!("3704004405320130{i:02}")))
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("insert into src.employees values ($1, $2, $3, '2024-01-01')")
            .bind(i)
            .bind(format!("Employee {i}"))
            .bind(format!("{:03}-{:02}-{:04}", 100 + i, 10 + i, 1000 + i))
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("insert into src.products values ($1, $2, 9.99)")
            .bind(format!("SKU-{i:04}"))
            .bind(format!("Widget v1.{i}"))
            .execute(&mut conn)
            .await
            .unwrap();
    }
}

async fn add_connector(tp: &TestPlatform, name: &str, kind: &str, config: Value) -> Uuid {
    let id = Uuid::new_v4();
    let mut tx = tools::begin_tenant(&tp.pool, tp.tenant).await.unwrap();
    sqlx::query(
        "insert into connectors (id, tenant_id, name, kind, config) values ($1, app_current_tenant(), $2, $3, $4)",
    )
    .bind(id)
    .bind(name)
    .bind(kind)
    .bind(config)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn warehouse(tp: &TestPlatform) {
    source_schema(tp).await;
    add_connector(
        tp,
        "warehouse",
        "postgres",
        json!({"url": tp.admin_url, "schemas": ["src"]}),
    )
    .await;
}

fn warehouse_target() -> DiscoveryTarget {
    DiscoveryTarget::Connector {
        connector: "warehouse".into(),
    }
}

async fn asset(tp: &TestPlatform, name: &str) -> discovery::Asset {
    let mut tx = tools::begin_tenant(&tp.pool, tp.tenant).await.unwrap();
    let mut found = discovery::find_assets_by_name(&mut tx, name, None)
        .await
        .unwrap();
    assert!(!found.is_empty(), "no asset {name}");
    found.remove(0)
}

fn column<'a>(asset: &'a discovery::Asset, name: &str) -> &'a discovery::Column {
    asset
        .columns
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

async fn count(tp: &TestPlatform, table: &str) -> i64 {
    let mut tx = tools::begin_tenant(&tp.pool, tp.tenant).await.unwrap();
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select count(*) from {table}")))
        .fetch_one(&mut *tx)
        .await
        .unwrap()
}

async fn invoke(
    tp: &TestPlatform,
    role: Role,
    tool: &str,
    args: Value,
) -> Result<tools::ToolOutput, ToolError> {
    tp.registry
        .invoke(&tp.ctx(role), tool, args, InvokeOptions::default())
        .await
}
