//! Settings: read once at start-up from an optional `aos.toml` and the
//! environment (which wins), validated into typed values. Secrets never appear
//! in `Debug` output or logs.

use serde::Deserialize;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A secret string whose `Debug` and `Display` never show its value.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A connection URL whose password is masked when printed.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct ServiceUrl(String);

impl ServiceUrl {
    pub fn new(value: impl Into<String>) -> Self {
        ServiceUrl(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with any password replaced by `***`, for messages and logs.
    pub fn redacted(&self) -> String {
        let url = &self.0;
        let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
            return url.clone();
        };
        let rest = &url[scheme_end..];
        let authority_end = rest.find('/').unwrap_or(rest.len());
        let Some(at) = rest[..authority_end].rfind('@') else {
            return url.clone();
        };
        match rest[..at].find(':') {
            Some(colon) => format!(
                "{}{}:***{}",
                &url[..scheme_end],
                &rest[..colon],
                &rest[at..]
            ),
            None => url.clone(),
        }
    }
}

impl fmt::Debug for ServiceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Display for ServiceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Validated settings for every `aos` command.
#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: SocketAddr,
    pub database_url: Option<ServiceUrl>,
    pub migrate_database_url: Option<ServiceUrl>,
    pub redis_url: ServiceUrl,
    pub redis_prefix: String,
    pub jwt_secret: Option<Secret>,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub body_limit_bytes: usize,
    pub db_max_connections: u32,
    pub openai_base_url: Option<String>,
    pub openai_api_key: Option<Secret>,
    pub llm_model: Option<String>,
    pub log_format: LogFormat,
    pub embedder: EmbedderKind,
    /// Folder with all-MiniLM-L6-v2 (`model.safetensors`, `tokenizer.json`);
    /// the tokenizer also measures chunks when the embedder is remote.
    pub model_dir: Option<PathBuf>,
    /// Model name for the OpenAI-compatible embedder.
    pub embedding_model: String,
    /// Largest document upload accepted.
    pub upload_limit_bytes: usize,
    /// Where the server keeps files of its own (the demo tenant's source files).
    pub data_dir: PathBuf,
    /// Folders file-source connectors and discovery scans may read (besides `data_dir`).
    pub file_roots: Vec<PathBuf>,
    /// Job workers `aos serve` runs in-process (0: leave jobs to `aos worker`).
    pub workers: usize,
    /// The built web UI (`chat-ui/dist`), served at `/`.
    pub ui_dir: PathBuf,
    /// The demo company's source database (its CRM and billing), which
    /// `aos demo seed` fills and points the demo connectors at.
    pub demo_source_url: Option<ServiceUrl>,
    /// Chat turns a user (or API key) may start per minute.
    pub chat_rate_per_user: u32,
    /// Chat turns a tenant may start per minute, all its users together.
    pub chat_rate_per_tenant: u32,
}

/// Where embeddings come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmbedderKind {
    /// all-MiniLM-L6-v2 in-process.
    Local,
    /// An OpenAI-compatible `/embeddings` endpoint at `OPENAI_BASE_URL`.
    Openai,
}

/// What an `aos.toml` may contain; every key is optional and the environment wins.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    bind: Option<String>,
    database_url: Option<ServiceUrl>,
    migrate_database_url: Option<ServiceUrl>,
    redis_url: Option<ServiceUrl>,
    redis_prefix: Option<String>,
    jwt_secret: Option<Secret>,
    access_token_ttl_secs: Option<u64>,
    refresh_token_ttl_secs: Option<u64>,
    body_limit_bytes: Option<usize>,
    db_max_connections: Option<u32>,
    openai_base_url: Option<String>,
    openai_api_key: Option<Secret>,
    llm_model: Option<String>,
    log_format: Option<LogFormat>,
    embedder: Option<EmbedderKind>,
    model_dir: Option<PathBuf>,
    embedding_model: Option<String>,
    upload_limit_bytes: Option<usize>,
    data_dir: Option<PathBuf>,
    file_roots: Option<Vec<PathBuf>>,
    workers: Option<usize>,
    ui_dir: Option<PathBuf>,
    demo_source_url: Option<ServiceUrl>,
    chat_rate_per_user: Option<u32>,
    chat_rate_per_tenant: Option<u32>,
}

/// Why settings could not be loaded; each names the setting at fault.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is invalid: {message}")]
    File { path: PathBuf, message: String },
    #[error("{name} is invalid: {message}")]
    Invalid { name: &'static str, message: String },
}

/// Source of environment values, so tests can supply their own.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl Settings {
    /// Loads `config` (or `./aos.toml` when present) and overlays the environment.
    pub fn load(config: Option<&Path>, env: &dyn Env) -> Result<Settings, SettingsError> {
        let file = match config {
            Some(path) => read_file(path)?,
            None => {
                let default = Path::new("aos.toml");
                if default.exists() {
                    read_file(default)?
                } else {
                    FileSettings::default()
                }
            }
        };
        Self::from_parts(file, env)
    }

    fn from_parts(file: FileSettings, env: &dyn Env) -> Result<Settings, SettingsError> {
        let bind_raw = env
            .var("AOS_BIND")
            .or(file.bind)
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let bind = bind_raw.parse().map_err(|_| SettingsError::Invalid {
            name: "AOS_BIND",
            message: format!("`{bind_raw}` is not an address such as 127.0.0.1:8080"),
        })?;
        let database_url = env
            .var("DATABASE_URL")
            .map(ServiceUrl::new)
            .or(file.database_url);
        let migrate_database_url = env
            .var("AOS_MIGRATE_DATABASE_URL")
            .map(ServiceUrl::new)
            .or(file.migrate_database_url);
        for (name, url) in [
            ("DATABASE_URL", &database_url),
            ("AOS_MIGRATE_DATABASE_URL", &migrate_database_url),
        ] {
            if let Some(url) = url {
                check_scheme(name, url, &["postgres://", "postgresql://"])?;
            }
        }
        let redis_url = env
            .var("REDIS_URL")
            .map(ServiceUrl::new)
            .or(file.redis_url)
            .unwrap_or_else(|| ServiceUrl::new("redis://127.0.0.1:6379"));
        check_scheme("REDIS_URL", &redis_url, &["redis://", "rediss://"])?;
        let redis_prefix = env
            .var("AOS_REDIS_PREFIX")
            .or(file.redis_prefix)
            .unwrap_or_else(|| "aos:".into());
        let jwt_secret = env
            .var("AOS_JWT_SECRET")
            .map(Secret::new)
            .or(file.jwt_secret);
        if let Some(secret) = &jwt_secret
            && secret.expose().len() < 32
        {
            return Err(SettingsError::Invalid {
                name: "AOS_JWT_SECRET",
                message: "must be at least 32 bytes long".into(),
            });
        }
        let access_secs = number(env, "AOS_ACCESS_TOKEN_TTL_SECS", file.access_token_ttl_secs)?
            .unwrap_or(15 * 60);
        let refresh_secs = number(
            env,
            "AOS_REFRESH_TOKEN_TTL_SECS",
            file.refresh_token_ttl_secs,
        )?
        .unwrap_or(30 * 24 * 3600);
        if access_secs == 0 || refresh_secs <= access_secs {
            return Err(SettingsError::Invalid {
                name: "AOS_ACCESS_TOKEN_TTL_SECS",
                message: "must be positive and shorter than AOS_REFRESH_TOKEN_TTL_SECS".into(),
            });
        }
        let body_limit_bytes =
            number(env, "AOS_BODY_LIMIT_BYTES", file.body_limit_bytes)?.unwrap_or(1024 * 1024);
        if body_limit_bytes < 1024 {
            return Err(SettingsError::Invalid {
                name: "AOS_BODY_LIMIT_BYTES",
                message: "must be at least 1024".into(),
            });
        }
        let db_max_connections =
            number(env, "AOS_DB_MAX_CONNECTIONS", file.db_max_connections)?.unwrap_or(20);
        let openai_base_url = env.var("OPENAI_BASE_URL").or(file.openai_base_url);
        let openai_api_key = env
            .var("OPENAI_API_KEY")
            .map(Secret::new)
            .or(file.openai_api_key);
        let llm_model = env.var("AOS_LLM_MODEL").or(file.llm_model);
        let log_format = match env.var("AOS_LOG_FORMAT") {
            Some(raw) => match raw.as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                _ => {
                    return Err(SettingsError::Invalid {
                        name: "AOS_LOG_FORMAT",
                        message: format!("`{raw}` is not `text` or `json`"),
                    });
                }
            },
            None => file.log_format.unwrap_or(LogFormat::Text),
        };
        let embedder = match env.var("AOS_EMBEDDER") {
            Some(raw) => match raw.as_str() {
                "local" => EmbedderKind::Local,
                "openai" => EmbedderKind::Openai,
                _ => {
                    return Err(SettingsError::Invalid {
                        name: "AOS_EMBEDDER",
                        message: format!("`{raw}` is not `local` or `openai`"),
                    });
                }
            },
            None => file.embedder.unwrap_or(EmbedderKind::Local),
        };
        if embedder == EmbedderKind::Openai && openai_base_url.is_none() {
            return Err(SettingsError::Invalid {
                name: "AOS_EMBEDDER",
                message: "`openai` needs OPENAI_BASE_URL".into(),
            });
        }
        let model_dir = env
            .var("AOS_MODEL_DIR")
            .map(PathBuf::from)
            .or(file.model_dir);
        let embedding_model = env
            .var("AOS_EMBEDDING_MODEL")
            .or(file.embedding_model)
            .unwrap_or_else(|| "text-embedding-3-small".into());
        let upload_limit_bytes = number(env, "AOS_UPLOAD_LIMIT_BYTES", file.upload_limit_bytes)?
            .unwrap_or(20 * 1024 * 1024);
        let data_dir = env
            .var("AOS_DATA_DIR")
            .map(PathBuf::from)
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(".data"));
        let mut file_roots: Vec<PathBuf> = match env.var("AOS_FILE_ROOTS") {
            Some(raw) => std::env::split_paths(&raw)
                .filter(|p| !p.as_os_str().is_empty())
                .collect(),
            None => file.file_roots.unwrap_or_default(),
        };
        file_roots.push(data_dir.clone());
        let workers = number(env, "AOS_WORKERS", file.workers)?.unwrap_or(1);
        let ui_dir = env
            .var("AOS_UI_DIR")
            .map(PathBuf::from)
            .or(file.ui_dir)
            .unwrap_or_else(|| PathBuf::from("chat-ui/dist"));
        let demo_source_url = env
            .var("AOS_DEMO_SOURCE_URL")
            .map(ServiceUrl::new)
            .or(file.demo_source_url);
        let chat_rate_per_user =
            number(env, "AOS_CHAT_RATE_PER_USER", file.chat_rate_per_user)?.unwrap_or(30);
        let chat_rate_per_tenant =
            number(env, "AOS_CHAT_RATE_PER_TENANT", file.chat_rate_per_tenant)?.unwrap_or(600);
        Ok(Settings {
            chat_rate_per_user,
            chat_rate_per_tenant,
            demo_source_url,
            ui_dir,
            data_dir,
            file_roots,
            workers,
            embedder,
            model_dir,
            embedding_model,
            upload_limit_bytes,
            bind,
            database_url,
            migrate_database_url,
            redis_url,
            redis_prefix,
            jwt_secret,
            access_token_ttl: Duration::from_secs(access_secs),
            refresh_token_ttl: Duration::from_secs(refresh_secs),
            body_limit_bytes,
            db_max_connections,
            openai_base_url,
            openai_api_key,
            llm_model,
            log_format,
        })
    }
}

fn read_file(path: &Path) -> Result<FileSettings, SettingsError> {
    let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
        path: path.to_owned(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| SettingsError::File {
        path: path.to_owned(),
        message: e.message().to_owned(),
    })
}

fn check_scheme(
    name: &'static str,
    url: &ServiceUrl,
    schemes: &[&str],
) -> Result<(), SettingsError> {
    if schemes.iter().any(|s| url.expose().starts_with(s)) {
        Ok(())
    } else {
        Err(SettingsError::Invalid {
            name,
            message: format!("`{url}` must start with {}", schemes.join(" or ")),
        })
    }
}

fn number<T: std::str::FromStr>(
    env: &dyn Env,
    name: &'static str,
    file: Option<T>,
) -> Result<Option<T>, SettingsError> {
    match env.var(name) {
        Some(raw) => raw.parse().map(Some).map_err(|_| SettingsError::Invalid {
            name,
            message: format!("`{raw}` is not a valid number"),
        }),
        None => Ok(file),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct MapEnv(HashMap<&'static str, &'static str>);

    impl Env for MapEnv {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).map(|v| (*v).to_owned())
        }
    }

    fn env(pairs: &[(&'static str, &'static str)]) -> MapEnv {
        MapEnv(pairs.iter().copied().collect())
    }

    #[test]
    fn defaults_apply_without_any_configuration() {
        let settings = Settings::from_parts(FileSettings::default(), &env(&[])).expect("defaults");
        assert_eq!(settings.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(settings.body_limit_bytes, 1024 * 1024);
        assert_eq!(settings.redis_url.expose(), "redis://127.0.0.1:6379");
    }

    #[test]
    fn environment_overrides_the_file() {
        let file: FileSettings =
            toml::from_str("bind = \"127.0.0.1:9000\"\nbody_limit_bytes = 4096").expect("toml");
        let settings =
            Settings::from_parts(file, &env(&[("AOS_BIND", "0.0.0.0:7000")])).expect("settings");
        assert_eq!(settings.bind.to_string(), "0.0.0.0:7000");
        assert_eq!(settings.body_limit_bytes, 4096);
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        assert!(toml::from_str::<FileSettings>("bnid = \"x\"").is_err());
    }

    #[test]
    fn invalid_values_name_the_setting() {
        let err = Settings::from_parts(FileSettings::default(), &env(&[("AOS_BIND", "nope")]))
            .expect_err("bad bind");
        assert!(err.to_string().starts_with("AOS_BIND is invalid"));
        let err = Settings::from_parts(
            FileSettings::default(),
            &env(&[("AOS_JWT_SECRET", "short")]),
        )
        .expect_err("short secret");
        assert!(err.to_string().starts_with("AOS_JWT_SECRET"));
        let err = Settings::from_parts(
            FileSettings::default(),
            &env(&[("DATABASE_URL", "mysql://x")]),
        )
        .expect_err("bad scheme");
        assert!(err.to_string().starts_with("DATABASE_URL"));
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let settings = Settings::from_parts(
            FileSettings::default(),
            &env(&[
                ("DATABASE_URL", "postgres://app:hunter2@db:5432/aos"),
                ("AOS_JWT_SECRET", "0123456789abcdef0123456789abcdef-secret"),
                ("OPENAI_API_KEY", "sk-very-secret"),
            ]),
        )
        .expect("settings");
        let printed = format!("{settings:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(!printed.contains("-secret"), "{printed}");
        assert!(!printed.contains("sk-very"), "{printed}");
        assert!(
            printed.contains("postgres://app:***@db:5432/aos"),
            "{printed}"
        );
    }
}
