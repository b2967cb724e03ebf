//! The PostgreSQL source (also Supabase): connect within a time limit, list
//! the tables with their declared columns, and read rows as JSON objects
//! through a server-side cursor, a batch at a time.

use serde_json::{Map, Value};
use sqlx::{Connection, PgConnection, Row};
use std::time::{Duration, Instant};

use super::SourceError;
use super::config::PostgresConfig;
use super::files::SourceRow;
use super::fingerprint::DeclaredColumn;

/// How long connecting to a source may take.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A table (or view) the connector reads: `schema.table`.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub schema: String,
    pub name: String,
    pub columns: Vec<DeclaredColumn>,
}

impl Table {
    pub(crate) fn entity(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    /// `"schema"."table"`, quoted so any name is safe to put in SQL.
    fn quoted(&self) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(&self.name))
    }
}

/// An identifier in double quotes, inner quotes doubled.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Connects, or says in a line why not: the server's own message (wrong
/// password, unknown database) or that the host cannot be reached.
pub(crate) async fn connect(
    config: &PostgresConfig,
    secrets: &crate::secrets::SecretBox,
    connector: uuid::Uuid,
) -> Result<(PgConnection, Duration), SourceError> {
    let options = config
        .connect_options(secrets, connector)
        .map_err(SourceError)?;
    let address = config.address();
    let started = Instant::now();
    match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options)).await {
        Ok(Ok(conn)) => Ok((conn, started.elapsed())),
        Ok(Err(err)) => Err(SourceError(describe_connect_error(&err, &address))),
        Err(_) => Err(SourceError(format!(
            "cannot reach {address}: no answer within {} s",
            CONNECT_TIMEOUT.as_secs()
        ))),
    }
}

fn describe_connect_error(err: &sqlx::Error, address: &str) -> String {
    match err {
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::Io(e) => format!("cannot reach {address}: {e}"),
        sqlx::Error::Tls(e) => format!("TLS with {address} failed: {e}"),
        other => format!("cannot connect to {address}: {other}"),
    }
}

/// The tables the configuration selects, with their columns in order.
pub(crate) async fn tables(
    conn: &mut PgConnection,
    config: &PostgresConfig,
) -> Result<Vec<Table>, SourceError> {
    let rows = sqlx::query(
        "select c.table_schema::text, c.table_name::text, c.column_name::text, c.data_type::text
         from information_schema.columns c
         join information_schema.tables t
           on t.table_schema = c.table_schema and t.table_name = c.table_name
         where t.table_type in ('BASE TABLE', 'VIEW')
           and c.table_schema not in ('pg_catalog', 'information_schema')
           and c.table_schema not like 'pg\\_%'
           and (cardinality($1::text[]) = 0 or c.table_schema = any($1))
         order by c.table_schema, c.table_name, c.ordinal_position",
    )
    .bind(&config.schemas)
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| SourceError(format!("cannot list the tables: {e}")))?;
    let mut tables: Vec<Table> = Vec::new();
    for row in rows {
        let schema: String = row.get(0);
        let name: String = row.get(1);
        let column = DeclaredColumn {
            name: row.get(2),
            declared_type: Some(row.get(3)),
        };
        match tables.last_mut() {
            Some(t) if t.schema == schema && t.name == name => t.columns.push(column),
            _ => tables.push(Table {
                schema,
                name,
                columns: vec![column],
            }),
        }
    }
    if !config.tables.is_empty() {
        tables.retain(|t| {
            config
                .tables
                .iter()
                .any(|wanted| *wanted == t.name || *wanted == t.entity())
        });
    }
    Ok(tables)
}

/// Up to `limit` rows of `table`.
pub(crate) async fn sample(
    conn: &mut PgConnection,
    table: &Table,
    limit: i64,
) -> Result<Vec<Map<String, Value>>, SourceError> {
    // Identifiers are quoted above; the limit is a bound parameter.
    let sql = format!(
        "select row_to_json(t)::text from {} t limit $1",
        table.quoted()
    );
    let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(limit)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| SourceError(format!("cannot read {}: {e}", table.entity())))?;
    Ok(rows
        .iter()
        .filter_map(|text| match serde_json::from_str(text) {
            Ok(Value::Object(map)) => Some(map),
            _ => None,
        })
        .collect())
}

/// Reads every row of a table through a cursor in a read-only transaction.
pub(crate) struct PgRows<'c> {
    conn: &'c mut PgConnection,
    rows: u64,
    open: bool,
}

impl<'c> PgRows<'c> {
    pub(crate) async fn open(
        conn: &'c mut PgConnection,
        table: &Table,
    ) -> Result<PgRows<'c>, SourceError> {
        let fail = |e: sqlx::Error| SourceError(format!("cannot read {}: {e}", table.entity()));
        // A cursor lives in a transaction; this connection is ours alone.
        sqlx::raw_sql("begin isolation level repeatable read read only")
            .execute(&mut *conn)
            .await
            .map_err(fail)?;
        let declare = format!(
            "declare aos_rows no scroll cursor for select row_to_json(t)::text from {} t",
            table.quoted()
        );
        let declared = sqlx::raw_sql(sqlx::AssertSqlSafe(declare))
            .execute(&mut *conn)
            .await;
        let mut rows = PgRows {
            conn,
            rows: 0,
            open: true,
        };
        if let Err(e) = declared {
            rows.close().await;
            return Err(fail(e));
        }
        Ok(rows)
    }

    /// Up to `max` rows; an empty batch means the end (and closes the cursor).
    pub(crate) async fn next_batch(&mut self, max: usize) -> Result<Vec<SourceRow>, SourceError> {
        if !self.open {
            return Ok(Vec::new());
        }
        let fetch = format!("fetch forward {} from aos_rows", max.max(1));
        let texts: Result<Vec<String>, sqlx::Error> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(fetch))
                .fetch_all(&mut *self.conn)
                .await;
        let texts = match texts {
            Ok(texts) => texts,
            Err(e) => {
                self.close().await;
                return Err(SourceError(format!("reading rows failed: {e}")));
            }
        };
        if texts.is_empty() {
            self.close().await;
        }
        Ok(texts
            .into_iter()
            .map(|text| {
                self.rows += 1;
                SourceRow {
                    number: self.rows,
                    data: match serde_json::from_str(&text) {
                        Ok(Value::Object(map)) => Ok(map),
                        _ => Err("the row is not a JSON object".into()),
                    },
                }
            })
            .collect())
    }

    /// Ends the read-only transaction (and with it the cursor).
    pub(crate) async fn close(&mut self) {
        if self.open {
            self.open = false;
            if let Err(e) = sqlx::raw_sql("rollback").execute(&mut *self.conn).await {
                tracing::warn!(error = %e, "cannot end a source read transaction");
            }
        }
    }
}

/// Closes the connection politely; a failure to do so changes nothing.
pub(crate) async fn disconnect(conn: PgConnection) {
    if let Err(e) = conn.close().await {
        tracing::debug!(error = %e, "closing a source connection");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("crm"), "\"crm\"");
        assert_eq!(quote_ident("we\"ird"), "\"we\"\"ird\"");
    }
}
