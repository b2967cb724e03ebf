//! What each `aos` command does. Start-up failures come back as one-line
//! errors naming the dependency at fault (see `main`).

use anyhow::{Context, Result, bail};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;
use uuid::Uuid;

use crate::admin::api_keys::{CreateApiKey, issue_key};
use crate::admin::users::{CreateUser, add_user};
use crate::auth::tokens::JwtKeys;
use crate::cli::{
    ApiKeyCommand, BenchCommand, Cli, Command, DemoCommand, EvalCommand, TenantCommand, UserCommand,
};
use crate::domain::{TenantId, parse_label};
use crate::settings::{LogFormat, ProcessEnv, ServiceUrl, Settings};
use crate::state::AppState;
use crate::store::audit::{self, Actor};
use crate::store::{Db, MIGRATOR, tenants};

pub async fn run(cli: Cli) -> Result<()> {
    let mut settings = Settings::load(cli.config.as_deref(), &ProcessEnv)?;
    let serving = matches!(cli.command, Command::Serve { .. });
    init_logging(&settings, serving);
    match cli.command {
        Command::Serve { bind } => {
            if let Some(bind) = bind {
                settings.bind = bind;
            }
            serve(settings).await
        }
        Command::Migrate => migrate(&settings).await,
        Command::Worker { concurrency } => worker(settings, concurrency).await,
        Command::Tenant(TenantCommand::Create { name }) => {
            let db = connect_db(&settings).await?;
            let name = parse_label("name", &name)?;
            let id = TenantId(Uuid::new_v4());
            let mut tx = db.tenant(id).await?;
            tenants::create(&mut tx, id, &name).await?;
            audit::record(
                &mut tx,
                Actor::System,
                "tenant.create",
                ("tenant", &id.to_string()),
                serde_json::json!({ "name": name }),
            )
            .await?;
            tx.commit().await?;
            println!("{id}");
            Ok(())
        }
        Command::User(UserCommand::Create(args)) => {
            let db = connect_db(&settings).await?;
            let password = match (args.password, args.password_env) {
                (Some(password), _) => password,
                (None, Some(var)) => std::env::var(&var)
                    .with_context(|| format!("environment variable {var} is not set"))?,
                (None, None) => bail!("give --password or --password-env"),
            };
            let tenant = existing_tenant(&db, args.tenant).await?;
            let user = add_user(
                &db,
                tenant,
                Actor::System,
                CreateUser {
                    email: args.email,
                    password,
                    role: args.role,
                    display_name: args.display_name,
                    persona: args.persona,
                },
            )
            .await?;
            println!("{}", user.id);
            Ok(())
        }
        Command::Apikey(ApiKeyCommand::Create { tenant, role, name }) => {
            let db = connect_db(&settings).await?;
            let tenant = existing_tenant(&db, tenant).await?;
            let created = issue_key(
                &db,
                tenant,
                Actor::System,
                None,
                CreateApiKey { name, role },
            )
            .await?;
            println!("{}", created.key);
            Ok(())
        }
        Command::Ingest(args) => {
            let db = connect_db(&settings).await?;
            existing_tenant(&db, args.tenant).await?;
            let service = crate::knowledge::KnowledgeService::from_settings(&settings)?;
            crate::ingest_cli::run(&db, &service, args).await
        }
        Command::Eval(EvalCommand::Retrieval {
            dataset,
            weights,
            postings,
        }) => {
            let db = connect_db(&settings).await?;
            let service = crate::knowledge::KnowledgeService::from_settings(&settings)?;
            let weights = weights
                .iter()
                .map(|w| crate::eval::retrieval::parse_weights(w))
                .collect::<Result<Vec<_>>>()?;
            crate::eval::retrieval::run(&db, &service, &dataset, &weights, &postings).await
        }
        Command::Bench(BenchCommand::Retrieval {
            dataset,
            chunks,
            base,
            rounds,
            keep,
            postings,
        }) => {
            let db = connect_db(&settings).await?;
            let service = crate::knowledge::KnowledgeService::from_settings(&settings)?;
            let options = crate::eval::bench::BenchOptions {
                dataset: &dataset,
                chunks,
                base,
                rounds,
                keep,
                postings: &postings,
            };
            crate::eval::bench::run(&db, &service, options).await
        }
        Command::Classify { persona_hint } => {
            let service = crate::knowledge::KnowledgeService::from_settings(&settings)?;
            let classifier = personas::Classifier::builtin(Arc::clone(service.embedder())).await?;
            crate::classify_cli::classify_stdin(&classifier, persona_hint).await
        }
        Command::Eval(EvalCommand::Intents {
            clinc,
            shots,
            no_adapt,
            adapt_epochs,
            target_oos_recall,
        }) => {
            let service = crate::knowledge::KnowledgeService::from_settings(&settings)?;
            let options = personas::eval::clinc::EvalOptions {
                shots,
                adapt: (!no_adapt).then_some(knowledge::embed::AdaptOptions {
                    epochs: adapt_epochs,
                    ..Default::default()
                }),
                target_oos_recall,
            };
            crate::classify_cli::eval_intents(service.embedder().as_ref(), &clinc, &options).await
        }
        Command::Eval(EvalCommand::Personas { file, adapt_epochs }) => {
            let service = crate::knowledge::KnowledgeService::from_settings(&settings)?;
            let embedder = Arc::clone(service.embedder());
            let classifier = match adapt_epochs {
                None => personas::Classifier::builtin(embedder).await?,
                Some(epochs) => {
                    let options = knowledge::embed::AdaptOptions {
                        epochs,
                        ..Default::default()
                    };
                    let definitions = personas::PersonaSet::builtin()?;
                    let config = personas::ClassifierConfig::default();
                    personas::Classifier::adapted(embedder, definitions, config, &options).await?
                }
            };
            crate::classify_cli::eval_personas(&classifier, &file).await
        }
        Command::Mappings(command) => mappings(&settings, command).await,
        Command::Slack(command) => {
            let db = connect_db(&settings).await?;
            let master = settings.jwt_secret.as_ref().map(|s| s.expose());
            crate::slack::cli::run(&db, master, command).await
        }
        Command::Bench(BenchCommand::Gateway(args)) => {
            let db = connect_db(&settings).await?;
            crate::eval::bench_gateway::run(&settings, &db, args).await
        }
        Command::Bench(BenchCommand::SlackAck(args)) => {
            let db = connect_db(&settings).await?;
            let master = settings.jwt_secret.as_ref().map(|s| s.expose());
            crate::slack::bench::run(&db, master, args).await
        }
        Command::Demo(DemoCommand::Seed) => {
            let db = connect_db(&settings).await?;
            let redis = connect_redis(&settings.redis_url).await?;
            let service = Arc::new(crate::knowledge::KnowledgeService::from_settings(
                &settings,
            )?);
            let (platform, _) =
                crate::platform::build(&settings, &db, redis, Arc::clone(&service))?;
            crate::demo::seed(&settings, &db, &service, &platform).await?;
            Ok(())
        }
    }
}

fn init_logging(settings: &Settings, serving: bool) {
    let default = if serving { "info,sqlx=warn" } else { "warn" };
    let filter = EnvFilter::try_from_env("AOS_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match settings.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

async fn serve(settings: Settings) -> Result<()> {
    let jwt_secret = settings.jwt_secret.clone().context(
        "AOS_JWT_SECRET is not set (at least 32 random bytes, e.g. `openssl rand -hex 32`)",
    )?;
    let db = connect_db(&settings).await?;
    check_schema(&db).await?;
    let redis = connect_redis(&settings.redis_url).await?;
    let metrics = crate::http::metrics::install().context("cannot install the metrics recorder")?;
    let jwt = JwtKeys::new(jwt_secret.expose().as_bytes(), settings.access_token_ttl)
        .context("AOS_JWT_SECRET is not usable")?;
    let knowledge = Arc::new(crate::knowledge::KnowledgeService::from_settings(
        &settings,
    )?);
    let (platform, tools) =
        crate::platform::build(&settings, &db, redis.clone(), Arc::clone(&knowledge))?;
    let llm = match (&settings.openai_base_url, &settings.llm_model) {
        (Some(base), Some(model)) => {
            let mut config = crate::gateway::llm::LlmConfig::new(base.clone(), model.clone());
            config.api_key = settings
                .openai_api_key
                .as_ref()
                .map(|k| k.expose().to_owned());
            Some(
                crate::gateway::llm::LlmClient::new(config)
                    .context("cannot set up the LLM client")?,
            )
        }
        _ => None,
    };
    let listener = TcpListener::bind(settings.bind)
        .await
        .with_context(|| format!("cannot listen on {}", settings.bind))?;
    let address = listener
        .local_addr()
        .context("cannot read the bound address")?;
    let chat_limits = crate::gateway::limits::Limits {
        per_user_per_minute: settings.chat_rate_per_user,
        per_tenant_per_minute: settings.chat_rate_per_tenant,
        max_text_chars: 8000,
    };
    let gateway = Arc::new(crate::gateway::Gateway::new(
        personas::PersonaSet::builtin().context("the built-in persona definitions are invalid")?,
        chat_limits,
        llm.clone(),
    ));
    let events = crate::gateway::hub::start(
        settings.redis_url.expose().to_owned(),
        settings.redis_prefix.clone(),
        Arc::clone(&gateway),
    );
    let state = AppState {
        settings: Arc::new(settings),
        db,
        redis,
        jwt: Arc::new(jwt),
        metrics,
        classify: Arc::new({
            let service = crate::classify::ClassifyService::new(Arc::clone(knowledge.embedder()));
            match &llm {
                Some(llm) => service.with_tie_breaker(llm.clone()),
                None => service,
            }
        }),
        knowledge,
        platform,
        tools,
        gateway,
        events,
        slack: Arc::new(
            crate::slack::Slack::new(jwt_secret.expose().as_bytes())
                .context("cannot set up the Slack client")?,
        ),
    };
    crate::slack::notify::spawn(state.clone());
    // Embed the classifier's exemplars now rather than on the first question.
    let warm = Arc::clone(&state.classify);
    tokio::spawn(async move {
        if let Err(err) = warm.classifier().await {
            tracing::warn!(error = %err, "cannot prepare the classifier");
        }
    });
    let stop_workers = tokio_util::sync::CancellationToken::new();
    for i in 0..state.settings.workers {
        spawn_worker(&state.settings, &state.platform, i, 2, stop_workers.clone())?;
    }
    tracing::info!(%address, "aos listening");
    println!("aos listening on http://{address}");
    let served = crate::http::serve(state, listener)
        .await
        .context("server failed");
    stop_workers.cancel();
    served
}

/// The name a worker goes by in the consumer group: unique per live process.
fn consumer_name(index: usize) -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "aos".into());
    format!("{host}-{}-{index}", std::process::id())
}

fn spawn_worker(
    settings: &Settings,
    platform: &Arc<tools::Platform>,
    index: usize,
    concurrency: usize,
    stop: tokio_util::sync::CancellationToken,
) -> Result<tokio::task::JoinHandle<()>> {
    let client = redis::Client::open(settings.redis_url.expose())
        .with_context(|| format!("REDIS_URL {} is invalid", settings.redis_url))?;
    let mut options = tools::jobs::WorkerOptions::new(consumer_name(index), client);
    options.concurrency = concurrency.max(1);
    let platform = Arc::clone(platform);
    Ok(tokio::spawn(async move {
        if let Err(err) =
            tools::jobs::run_worker(platform, options, async move { stop.cancelled().await }).await
        {
            tracing::error!(error = %err, "job worker stopped");
        }
    }))
}

/// `aos worker`: runs jobs until Ctrl-C or SIGTERM.
async fn worker(settings: Settings, concurrency: usize) -> Result<()> {
    let db = connect_db(&settings).await?;
    check_schema(&db).await?;
    let redis = connect_redis(&settings.redis_url).await?;
    let knowledge = Arc::new(crate::knowledge::KnowledgeService::from_settings(
        &settings,
    )?);
    let (platform, _) = crate::platform::build(&settings, &db, redis, knowledge)?;
    let stop = tokio_util::sync::CancellationToken::new();
    let handle = spawn_worker(&settings, &platform, 0, concurrency, stop.clone())?;
    eprintln!("aos worker {} running; Ctrl-C stops it", consumer_name(0));
    crate::http::shutdown_signal().await;
    stop.cancel();
    handle.await.context("the worker task failed")?;
    Ok(())
}

async fn migrate(settings: &Settings) -> Result<()> {
    let url = settings
        .migrate_database_url
        .as_ref()
        .or(settings.database_url.as_ref())
        .context("neither AOS_MIGRATE_DATABASE_URL nor DATABASE_URL is set")?;
    let db = Db::connect(url.expose(), 2)
        .await
        .with_context(|| format!("cannot connect to PostgreSQL at {url}"))?;
    MIGRATOR
        .run(db.pool())
        .await
        .with_context(|| format!("migrating {url} failed"))?;
    eprintln!("database at {url} is up to date");
    Ok(())
}

async fn connect_db(settings: &Settings) -> Result<Db> {
    let url = settings
        .database_url
        .as_ref()
        .context("DATABASE_URL is not set")?;
    let db = Db::connect(url.expose(), settings.db_max_connections)
        .await
        .with_context(|| format!("cannot connect to PostgreSQL at {url}"))?;
    Ok(db)
}

/// Refuses to serve against a schema older than this binary.
async fn check_schema(db: &Db) -> Result<()> {
    let expected = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    let applied = db
        .schema_version()
        .await
        .context("cannot read the schema version (has `aos migrate` run?)")?
        .unwrap_or(0);
    if applied < expected {
        bail!(
            "the database schema is at version {applied} but this binary needs {expected}: run `aos migrate`"
        );
    }
    Ok(())
}

async fn connect_redis(url: &ServiceUrl) -> Result<ConnectionManager> {
    let client =
        redis::Client::open(url.expose()).with_context(|| format!("REDIS_URL {url} is invalid"))?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(Duration::from_secs(2)))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_millis(500));
    let manager = tokio::time::timeout(
        Duration::from_secs(5),
        ConnectionManager::new_with_config(client, config),
    )
    .await
    .map_err(|_| anyhow::anyhow!("timed out"))
    .and_then(|r| r.map_err(anyhow::Error::from))
    .with_context(|| format!("cannot connect to Redis at {url}"))?;
    Ok(manager)
}

async fn existing_tenant(db: &Db, id: Uuid) -> Result<TenantId> {
    let tenant = TenantId(id);
    let mut tx = db.tenant(tenant).await?;
    tenants::current(&mut tx)
        .await
        .with_context(|| format!("tenant {id} does not exist"))?;
    Ok(tenant)
}

/// `aos mappings import|export`.
async fn mappings(settings: &Settings, command: crate::cli::MappingsCommand) -> Result<()> {
    use crate::cli::MappingsCommand;
    let db = connect_db(settings).await?;
    match command {
        MappingsCommand::Import { tenant, file } => {
            let tenant = existing_tenant(&db, tenant).await?;
            let reader = std::fs::File::open(&file)
                .with_context(|| format!("cannot open {}", file.display()))?;
            let mut tx = db.tenant(tenant).await?;
            let report = tools::mapping::import_csv(&mut tx, reader, Actor::System)
                .await
                .with_context(|| format!("cannot import {}", file.display()))?;
            tx.commit().await?;
            for error in &report.errors {
                eprintln!("row {}: {}", error.row, error.error);
            }
            eprintln!(
                "{} mapping(s) applied, {} unchanged, {} row(s) refused",
                report.applied,
                report.unchanged,
                report.errors.len()
            );
            if !report.errors.is_empty() {
                anyhow::bail!("some rows of {} were refused", file.display());
            }
            Ok(())
        }
        MappingsCommand::Export { tenant, file } => {
            let tenant = existing_tenant(&db, tenant).await?;
            let mut tx = db.tenant(tenant).await?;
            let mut out = Vec::new();
            let rows = tools::mapping::export_csv(&mut tx, &mut out)
                .await
                .context("cannot export the mappings")?;
            match file {
                Some(path) => std::fs::write(&path, out)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => std::io::Write::write_all(&mut std::io::stdout(), &out)?,
            }
            eprintln!("{rows} mapping(s) exported");
            Ok(())
        }
    }
}
