//! Connector kinds and their configuration, parsed (and so validated) once at
//! the edge. The database URL (password included) is stored sealed
//! ([`crate::secrets`], bound to the connector's id) beside a masked copy, and
//! opened only to connect; `Debug` and `Serialize` show the password as `***`.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::postgres::PgConnectOptions;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::platform::Platform;
use crate::secrets::SecretBox;
use uuid::Uuid;

/// What a connector reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConnectorKind {
    Postgres,
    /// A PostgreSQL database hosted by Supabase: the same connector, its own name.
    Supabase,
    /// A folder of CSV, JSON and JSON-lines files.
    Files,
}

impl ConnectorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectorKind::Postgres => "postgres",
            ConnectorKind::Supabase => "supabase",
            ConnectorKind::Files => "files",
        }
    }
}

impl FromStr for ConnectorKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "postgres" | "postgresql" => Ok(ConnectorKind::Postgres),
            "supabase" => Ok(ConnectorKind::Supabase),
            "files" => Ok(ConnectorKind::Files),
            other => Err(format!(
                "unknown connector kind `{other}` (expected postgres, supabase or files)"
            )),
        }
    }
}

impl fmt::Display for ConnectorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A connector's validated configuration.
#[derive(Clone, PartialEq)]
pub enum ConnectorConfig {
    Postgres(PostgresConfig),
    Files(FilesConfig),
}

/// A PostgreSQL (or Supabase) source.
#[derive(Clone, PartialEq)]
pub struct PostgresConfig {
    url: Credential,
    /// Schemas to read; empty means every schema but the system ones.
    pub schemas: Vec<String>,
    /// Tables to read (`table` or `schema.table`); empty means every table.
    pub tables: Vec<String>,
}

/// A database URL with its password.
#[derive(Clone, PartialEq)]
enum Credential {
    /// As the user gave it, until it is stored (or as stored before sealing).
    Clear(String),
    /// As stored: sealed, with the URL masked for display.
    Sealed { sealed: String, masked: String },
}

/// Where a connector's sealed URL belongs: it opens for that connector only.
fn url_context(connector: Uuid) -> String {
    format!("connector:{connector}:url")
}

/// A folder of files.
#[derive(Debug, Clone, PartialEq)]
pub struct FilesConfig {
    pub path: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPostgres {
    url: Option<String>,
    /// Only in stored configurations: the sealed URL (`url` is then masked).
    url_sealed: Option<String>,
    #[serde(default)]
    schemas: Vec<String>,
    #[serde(default)]
    tables: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFiles {
    path: Option<String>,
}

impl ConnectorConfig {
    /// Parses and checks a configuration for `kind`, as given by a user: the
    /// URL must be a PostgreSQL URL with a host, the folder must exist inside
    /// the platform's file roots. The error says what is wrong, for people.
    pub fn parse(kind: ConnectorKind, raw: &Value, platform: &Platform) -> Result<Self, String> {
        if raw.get("url_sealed").is_some() {
            return Err("unknown field `url_sealed`: give the database URL as `url`".into());
        }
        let config = Self::parse_shape(kind, raw)?;
        if let ConnectorConfig::Files(files) = &config {
            let path = files.path.to_string_lossy();
            let resolved = platform.allowed_path(&path)?;
            if !resolved.is_dir() {
                return Err(format!("`{path}` is not a folder"));
            }
            return Ok(ConnectorConfig::Files(FilesConfig { path: resolved }));
        }
        Ok(config)
    }

    /// Reads a stored configuration (already validated when it was created;
    /// the file roots are checked again whenever the folder is read).
    pub(crate) fn from_stored(kind: ConnectorKind, raw: &Value) -> Result<Self, String> {
        Self::parse_shape(kind, raw)
    }

    fn parse_shape(kind: ConnectorKind, raw: &Value) -> Result<Self, String> {
        if !raw.is_object() {
            return Err("the config must be a JSON object".into());
        }
        match kind {
            ConnectorKind::Postgres | ConnectorKind::Supabase => {
                let raw: RawPostgres = serde_json::from_value(raw.clone())
                    .map_err(|e| format!("{kind} config: {e}"))?;
                let url = raw.url.filter(|u| !u.trim().is_empty()).ok_or_else(|| {
                    format!(
                        "{kind} config needs a `url` (postgres://user:password@host:5432/database)"
                    )
                })?;
                check_url(url.trim())?;
                let url = match raw.url_sealed {
                    Some(sealed) => Credential::Sealed {
                        sealed,
                        masked: redact_url(url.trim()),
                    },
                    None => Credential::Clear(url.trim().to_owned()),
                };
                for (what, names) in [("schemas", &raw.schemas), ("tables", &raw.tables)] {
                    if let Some(bad) = names.iter().find(|n| n.trim().is_empty() || n.len() > 127) {
                        return Err(format!("`{what}` holds an invalid name `{bad}`"));
                    }
                }
                Ok(ConnectorConfig::Postgres(PostgresConfig {
                    url,
                    schemas: raw.schemas,
                    tables: raw.tables,
                }))
            }
            ConnectorKind::Files => {
                let raw: RawFiles = serde_json::from_value(raw.clone())
                    .map_err(|e| format!("files config: {e}"))?;
                let path = raw
                    .path
                    .filter(|p| !p.trim().is_empty())
                    .ok_or("files config needs a `path` (an absolute folder path)")?;
                if !path.starts_with('/') {
                    return Err(format!("`path` must be absolute, not `{path}`"));
                }
                Ok(ConnectorConfig::Files(FilesConfig {
                    path: PathBuf::from(path),
                }))
            }
        }
    }

    /// The configuration as stored for `connector`: the URL sealed for it,
    /// beside a masked copy.
    pub(crate) fn stored(&self, secrets: &SecretBox, connector: Uuid) -> Value {
        match self {
            ConnectorConfig::Postgres(pg) => {
                let sealed = match &pg.url {
                    Credential::Clear(url) => secrets.seal(&url_context(connector), url),
                    Credential::Sealed { sealed, .. } => sealed.clone(),
                };
                json!({"url": pg.redacted_url(), "url_sealed": sealed,
                    "schemas": pg.schemas, "tables": pg.tables})
            }
            ConnectorConfig::Files(files) => json!({"path": files.path.to_string_lossy()}),
        }
    }

    /// The configuration as shown to people: the password masked.
    pub fn redacted(&self) -> Value {
        match self {
            ConnectorConfig::Postgres(pg) => {
                json!({"url": pg.redacted_url(), "schemas": pg.schemas, "tables": pg.tables})
            }
            ConnectorConfig::Files(files) => json!({"path": files.path.to_string_lossy()}),
        }
    }
}

impl fmt::Debug for ConnectorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.redacted())
    }
}

impl fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("url", &self.redacted_url())
            .field("schemas", &self.schemas)
            .field("tables", &self.tables)
            .finish()
    }
}

impl Serialize for ConnectorConfig {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.redacted().serialize(serializer)
    }
}

impl PostgresConfig {
    /// The URL in clear, opened for `connector` if it is sealed.
    pub(crate) fn url(&self, secrets: &SecretBox, connector: Uuid) -> Result<String, String> {
        match &self.url {
            Credential::Clear(url) => Ok(url.clone()),
            Credential::Sealed { sealed, .. } => secrets
                .open(&url_context(connector), sealed)
                .map_err(|e| e.to_string()),
        }
    }

    pub(crate) fn connect_options(
        &self,
        secrets: &SecretBox,
        connector: Uuid,
    ) -> Result<PgConnectOptions, String> {
        PgConnectOptions::from_str(&self.url(secrets, connector)?)
            .map_err(|e| format!("invalid database URL: {e}"))
    }

    /// `host:port` of the database, for messages.
    pub fn address(&self) -> String {
        let shown = self.redacted_url();
        let (host, port) = url_host_port(&shown);
        format!("{host}:{}", port.unwrap_or("5432"))
    }

    /// The URL with its password replaced by `***`.
    pub fn redacted_url(&self) -> String {
        match &self.url {
            Credential::Clear(url) => redact_url(url),
            Credential::Sealed { masked, .. } => masked.clone(),
        }
    }
}

/// Splits `scheme://[user[:password]@]host[:port][/db][?params]` into its
/// authority's host and (unparsed) port.
fn url_host_port(url: &str) -> (&str, Option<&str>) {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    // An IPv6 literal keeps its colons inside brackets.
    match host_port.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, Some(port)),
        _ => (host_port, None),
    }
}

fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            if userinfo.contains(':') {
                format!("{scheme}://{user}:***@{host}{tail}")
            } else {
                format!("{scheme}://{user}@{host}{tail}")
            }
        }
        None => url.to_owned(),
    }
}

fn check_url(url: &str) -> Result<(), String> {
    let shown = redact_url(url);
    let Some((scheme, _)) = url.split_once("://") else {
        return Err(format!(
            "`{shown}` is not a database URL (expected postgres://user:password@host:5432/database)"
        ));
    };
    if scheme != "postgres" && scheme != "postgresql" {
        return Err(format!(
            "the URL scheme must be postgres:// or postgresql://, not {scheme}://"
        ));
    }
    let (host, port) = url_host_port(url);
    if host.is_empty() {
        return Err(format!("`{shown}` names no host"));
    }
    if let Some(port) = port
        && port.parse::<u16>().is_err()
    {
        return Err(format!("`{port}` is not a port number"));
    }
    PgConnectOptions::from_str(url).map_err(|e| format!("invalid database URL `{shown}`: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_redacted() {
        assert!(check_url("postgres://u:p@db.example.com:5432/app").is_ok());
        assert!(check_url("postgresql://u@localhost/app?sslmode=disable").is_ok());
        assert!(
            check_url("mysql://u:p@h/db")
                .unwrap_err()
                .contains("scheme")
        );
        assert!(
            check_url("not a url")
                .unwrap_err()
                .contains("not a database URL")
        );
        assert!(
            check_url("postgres:///app")
                .unwrap_err()
                .contains("no host")
        );
        assert!(
            check_url("postgres://u:p@h:port/db")
                .unwrap_err()
                .contains("port")
        );
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            url_host_port("postgres://u:p@h:6543/db"),
            ("h", Some("6543"))
        );
    }

    #[test]
    fn shapes_are_checked() {
        let pg = ConnectorConfig::from_stored(ConnectorKind::Postgres, &json!({}));
        assert!(pg.unwrap_err().contains("needs a `url`"));
        let files = ConnectorConfig::from_stored(ConnectorKind::Files, &json!({"path": "rel/dir"}));
        assert!(files.unwrap_err().contains("absolute"));
        let extra =
            ConnectorConfig::from_stored(ConnectorKind::Files, &json!({"path": "/x", "y": 1}));
        assert!(extra.unwrap_err().contains("unknown field"));
        let config = ConnectorConfig::from_stored(
            ConnectorKind::Supabase,
            &json!({"url": "postgres://u:pw@h/db", "schemas": ["crm"]}),
        )
        .unwrap();
        assert!(!format!("{config:?}").contains("pw"));
    }

    #[test]
    fn a_stored_url_is_sealed_for_its_connector_and_opens_only_there() {
        let secrets = SecretBox::from_master_secret(b"a master secret of 32 bytes or more!", "t");
        let (id, other) = (Uuid::new_v4(), Uuid::new_v4());
        let given = json!({"url": "postgres://u:Hunter2-Secret@h:6543/db", "schemas": ["crm"]});
        let config = ConnectorConfig::parse_shape(ConnectorKind::Postgres, &given).unwrap();
        let stored = config.stored(&secrets, id);
        // A password long enough that a random ciphertext never spells it
        // ("pw" did, in about 1 run in 60).
        assert!(!stored.to_string().contains("Hunter2-Secret"), "{stored}");
        assert_eq!(stored["url"], "postgres://u:***@h:6543/db");
        let read = ConnectorConfig::from_stored(ConnectorKind::Postgres, &stored).unwrap();
        let ConnectorConfig::Postgres(pg) = &read else {
            panic!("{read:?}");
        };
        assert_eq!(
            pg.url(&secrets, id).unwrap(),
            "postgres://u:Hunter2-Secret@h:6543/db"
        );
        assert_eq!(pg.address(), "h:6543");
        assert!(
            pg.url(&secrets, other).is_err(),
            "moved to another connector"
        );
        // Stored again (a rewrite), it stays the same sealed value.
        assert_eq!(
            read.stored(&secrets, id)["url_sealed"],
            stored["url_sealed"]
        );
        // A configuration stored before sealing still reads, in clear.
        let legacy = ConnectorConfig::from_stored(ConnectorKind::Postgres, &given).unwrap();
        let ConnectorConfig::Postgres(pg) = &legacy else {
            panic!("{legacy:?}");
        };
        assert_eq!(
            pg.url(&secrets, id).unwrap(),
            "postgres://u:Hunter2-Secret@h:6543/db"
        );
    }
}
