//! Reads a PostgreSQL (or Supabase) database's catalog: schemas, tables,
//! columns and their types, owners and row counts, plus up to 100 sampled
//! values per text-like column for PII detection. The session is read-only and
//! has a statement timeout, so a scan can neither change nor stall the source.

use serde_json::json;
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use super::{AssetKind, Column, DiscoveryError, FoundAsset, Scan};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const SAMPLE_SIZE: i64 = 100;
/// Tables beyond this many are left for a narrower scan (by schema).
const MAX_TABLES: usize = 500;
/// Tables the statistics call small are counted exactly, up to this many rows.
const EXACT_COUNT_CAP: i64 = 100_000;
const SYSTEM_SCHEMAS: &[&str] = &["pg_catalog", "information_schema", "pg_toast"];
/// Supabase's own machinery, skipped unless a scan names them (`auth` is kept:
/// its users table holds real PII).
const SUPABASE_SCHEMAS: &[&str] = &[
    "extensions",
    "graphql",
    "graphql_public",
    "realtime",
    "_realtime",
    "supabase_functions",
    "supabase_migrations",
    "pgsodium",
    "pgsodium_masks",
    "vault",
    "net",
    "cron",
    "storage",
    "_analytics",
    "pgbouncer",
];

struct Table {
    schema: String,
    name: String,
    owner: String,
    reltuples: f32,
    description: Option<String>,
    columns: Vec<SourceColumn>,
}

struct SourceColumn {
    name: String,
    data_type: String,
    samplable: bool,
}

/// Scans the database at `url`: every table of `schemas`, or of every
/// non-system schema when none are named.
pub(crate) async fn scan(
    url: &str,
    schemas: Option<&[String]>,
    supabase: bool,
) -> Result<Scan, DiscoveryError> {
    let mut conn = connect(url).await?;
    let mut skipped: Vec<&str> = SYSTEM_SCHEMAS.to_vec();
    if supabase && schemas.is_none() {
        skipped.extend(SUPABASE_SCHEMAS);
    }
    let only = schemas.filter(|s| !s.is_empty());
    let mut tables = list_tables(&mut conn, &skipped, only)
        .await
        .map_err(|e| DiscoveryError::Source(format!("cannot read the database catalog: {e}")))?;
    let mut warnings = Vec::new();
    if tables.len() > MAX_TABLES {
        warnings.push(format!(
            "{} tables found; only the first {MAX_TABLES} were scanned (name schemas to narrow the scan)",
            tables.len()
        ));
        tables.truncate(MAX_TABLES);
    }
    let mut assets = Vec::with_capacity(tables.len());
    for table in tables {
        assets.push(scan_table(&mut conn, table, &mut warnings).await);
    }
    conn.close().await.ok();
    Ok(Scan { assets, warnings })
}

async fn connect(url: &str) -> Result<PgConnection, DiscoveryError> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(DiscoveryError::BadTarget(
            "the connector's `url` is not a valid PostgreSQL URL (postgres://user:password@host/db)".into(),
        ));
    }
    let options = PgConnectOptions::from_str(url)
        .map_err(|_| {
            DiscoveryError::BadTarget(
                "the connector's `url` is not a valid PostgreSQL URL (postgres://user:password@host/db)".into(),
            )
        })?
        .application_name("aos-discovery")
        .options([("default_transaction_read_only", "on"), ("statement_timeout", "15s")]);
    let place = format!("{}:{}", options.get_host(), options.get_port());
    match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(err)) => Err(DiscoveryError::Source(connect_failure(
            &err, &options, &place,
        ))),
        Err(_) => Err(DiscoveryError::Source(format!(
            "PostgreSQL at {place} did not answer within {} s",
            CONNECT_TIMEOUT.as_secs()
        ))),
    }
}

/// Why a connection failed, in words that say what to fix (never the password).
fn connect_failure(err: &sqlx::Error, options: &PgConnectOptions, place: &str) -> String {
    let user = options.get_username();
    match err {
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("28P01") => {
                format!("PostgreSQL at {place} rejected the password for user `{user}`")
            }
            Some("28000") => format!(
                "PostgreSQL at {place} does not let user `{user}` in: {}",
                db.message()
            ),
            Some("3D000") => format!(
                "PostgreSQL at {place} has no database `{}`",
                options.get_database().unwrap_or(user)
            ),
            _ => format!(
                "PostgreSQL at {place} refused the connection: {}",
                db.message()
            ),
        },
        sqlx::Error::Io(io) => format!("cannot reach PostgreSQL at {place}: {io}"),
        sqlx::Error::Tls(tls) => format!("TLS with PostgreSQL at {place} failed: {tls}"),
        other => format!("cannot connect to PostgreSQL at {place}: {other}"),
    }
}

async fn list_tables(
    conn: &mut PgConnection,
    skipped: &[&str],
    only: Option<&[String]>,
) -> Result<Vec<Table>, sqlx::Error> {
    let skipped: Vec<String> = skipped.iter().map(|s| (*s).to_owned()).collect();
    let only: Option<Vec<String>> = only.map(<[String]>::to_vec);
    // Both queries share the filter: ordinary and partitioned tables, not partitions.
    let tables: Vec<(String, String, String, f32, Option<String>)> = sqlx::query_as(
        "select n.nspname::text, c.relname::text, pg_get_userbyid(c.relowner)::text, c.reltuples,
                obj_description(c.oid, 'pg_class')
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where c.relkind in ('r', 'p') and not c.relispartition
           and n.nspname <> all($1::text[])
           and n.nspname not like 'pg\\_temp\\_%' and n.nspname not like 'pg\\_toast\\_temp\\_%'
           and ($2::text[] is null or n.nspname = any($2::text[]))
         order by 1, 2",
    )
    .bind(&skipped)
    .bind(&only)
    .fetch_all(&mut *conn)
    .await?;
    let columns: Vec<(String, String, String, String, String, String)> = sqlx::query_as(
        "select n.nspname::text, c.relname::text, a.attname::text,
                format_type(a.atttypid, a.atttypmod), t.typcategory::text, t.typname::text
         from pg_attribute a
         join pg_class c on c.oid = a.attrelid
         join pg_namespace n on n.oid = c.relnamespace
         join pg_type t on t.oid = a.atttypid
         where a.attnum > 0 and not a.attisdropped
           and c.relkind in ('r', 'p') and not c.relispartition
           and n.nspname <> all($1::text[])
           and n.nspname not like 'pg\\_temp\\_%' and n.nspname not like 'pg\\_toast\\_temp\\_%'
           and ($2::text[] is null or n.nspname = any($2::text[]))
         order by n.nspname, c.relname, a.attnum",
    )
    .bind(&skipped)
    .bind(&only)
    .fetch_all(&mut *conn)
    .await?;
    let mut by_table: BTreeMap<(String, String), Vec<SourceColumn>> = BTreeMap::new();
    for (schema, table, name, data_type, category, type_name) in columns {
        // Strings, JSON, and the numeric types card or phone numbers hide in.
        let samplable =
            category == "S" || matches!(type_name.as_str(), "json" | "jsonb" | "int8" | "numeric");
        by_table
            .entry((schema, table))
            .or_default()
            .push(SourceColumn {
                name,
                data_type,
                samplable,
            });
    }
    Ok(tables
        .into_iter()
        .map(|(schema, name, owner, reltuples, description)| Table {
            columns: by_table
                .remove(&(schema.clone(), name.clone()))
                .unwrap_or_default(),
            schema,
            name,
            owner,
            reltuples,
            description,
        })
        .collect())
}

async fn scan_table(
    conn: &mut PgConnection,
    table: Table,
    warnings: &mut Vec<String>,
) -> FoundAsset {
    let qualified = format!("{}.{}", table.schema, table.name);
    let from = format!(
        "{}.{}",
        quote_ident(&table.schema),
        quote_ident(&table.name)
    );
    let row_estimate = match row_estimate(conn, &from, table.reltuples).await {
        Ok(rows) => Some(rows),
        Err(err) => {
            warnings.push(format!("{qualified}: cannot count rows ({})", short(&err)));
            None
        }
    };
    let mut columns = Vec::with_capacity(table.columns.len());
    let mut sampling_failed = None;
    for column in &table.columns {
        let samples = if column.samplable && sampling_failed.is_none() {
            match sample(conn, &from, &column.name).await {
                Ok(values) => values,
                Err(err) => {
                    sampling_failed = Some(short(&err));
                    Vec::new()
                }
            }
        } else {
            Vec::new()
        };
        columns.push(Column::classify(&column.name, &column.data_type, &samples));
    }
    if let Some(reason) = sampling_failed {
        warnings.push(format!(
            "{qualified}: cannot sample values, PII judged by column names only ({reason})"
        ));
    }
    FoundAsset {
        kind: AssetKind::Table,
        qualified_name: qualified,
        name: table.name.clone(),
        owner: Some(table.owner),
        tags: vec![table.schema.clone()],
        columns,
        row_estimate,
        sanctioned: true,
        details: json!({
            "schema": table.schema,
            "table": table.name,
            "description": table.description,
        }),
    }
}

/// The planner's estimate, or an exact (capped) count when the table was
/// never analysed or is small enough for the estimate to be rough.
async fn row_estimate(
    conn: &mut PgConnection,
    from: &str,
    reltuples: f32,
) -> Result<i64, sqlx::Error> {
    if reltuples >= 1000.0 {
        return Ok(reltuples as i64);
    }
    let sql = format!("select count(*) from (select 1 from {from} limit {EXACT_COUNT_CAP}) s");
    let counted: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
        .fetch_one(conn)
        .await?;
    Ok(counted.max(reltuples as i64))
}

async fn sample(
    conn: &mut PgConnection,
    from: &str,
    column: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let column = quote_ident(column);
    let sql =
        format!("select {column}::text from {from} where {column} is not null limit {SAMPLE_SIZE}");
    sqlx::query_scalar(AssertSqlSafe(sql)).fetch_all(conn).await
}

/// A double-quoted identifier: the only way names reach dynamic SQL here.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn short(err: &sqlx::Error) -> String {
    match err {
        sqlx::Error::Database(db) => db.message().to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_and_escaped() {
        assert_eq!(quote_ident("accounts"), "\"accounts\"");
        assert_eq!(quote_ident("we\"ird; drop"), "\"we\"\"ird; drop\"");
    }

    #[tokio::test]
    async fn a_malformed_url_is_a_bad_target_without_echoing_it() {
        let err = connect("postgres://u:secret@host:notaport/db")
            .await
            .err()
            .map(|e| e.to_string());
        let err = err.unwrap_or_default();
        assert!(err.contains("not a valid PostgreSQL URL"), "{err}");
        assert!(!err.contains("secret"));
    }

    #[tokio::test]
    async fn a_closed_port_is_a_clear_failure() {
        let err = connect("postgres://u:p@127.0.0.1:1/db").await.err();
        let message = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.starts_with("cannot reach PostgreSQL at 127.0.0.1:1"),
            "{message}"
        );
    }
}
