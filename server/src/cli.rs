//! The `aos` command line. Output is meant for scripts: commands that create
//! something print its id (or key) alone on stdout; logs go to stderr.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use uuid::Uuid;

use crate::domain::{Persona, Role};

#[derive(Debug, Parser)]
#[command(name = "aos", version, about = "AutonomOS Control Center: conversational gateway for executives", long_about = None)]
pub struct Cli {
    /// Settings file (default: ./aos.toml when present). The environment overrides it.
    #[arg(long, global = true, env = "AOS_CONFIG")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server.
    Serve {
        /// Address to listen on [env: AOS_BIND] [default: 127.0.0.1:8080].
        #[arg(long)]
        bind: Option<SocketAddr>,
    },
    /// Run queued jobs (agent runs, connector syncs) until interrupted; any
    /// number of workers may run against the same Redis.
    Worker {
        /// Jobs run at once.
        #[arg(long, default_value_t = 2)]
        concurrency: usize,
    },
    /// Apply database migrations (as AOS_MIGRATE_DATABASE_URL, else DATABASE_URL).
    Migrate,
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Apikey(ApiKeyCommand),
    /// The demo tenant.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// A tenant's approved schema mappings as CSV
    /// (connector,source_entity,source_field,canonical_entity,canonical_field).
    #[command(subcommand)]
    Mappings(MappingsCommand),
    /// Add files or folders (recursively) to a tenant's knowledge.
    Ingest(IngestArgs),
    /// Classify lines (plain text or JSONL `{"text", "persona_hint"}`) from stdin; JSONL out.
    Classify {
        /// Persona prior for every line: cto, cro, coo or cfo.
        #[arg(long)]
        persona_hint: Option<Persona>,
    },
    /// Measure quality against public data sets.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Measure speed and memory.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Slack workspaces (team → tenant) and Slack user links.
    #[command(subcommand)]
    Slack(crate::slack::cli::SlackCommand),
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Hybrid search latency at scale and ingest throughput, in a scratch tenant.
    Retrieval {
        /// A BEIR-layout folder whose passages and queries are used.
        #[arg(long)]
        dataset: PathBuf,
        /// Chunks in the index (replicated from the base passages).
        #[arg(long, default_value_t = 100_000)]
        chunks: usize,
        /// Passages embedded for real.
        #[arg(long, default_value_t = 1_000)]
        base: usize,
        /// Times each query is run per mode.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Keep the scratch tenant afterwards.
        #[arg(long)]
        keep: bool,
        /// Extra lexical and hybrid runs with these BM25 postings-per-term cut-offs.
        #[arg(long, value_delimiter = ',')]
        postings: Vec<usize>,
    },
    /// Slack event acknowledgement latency under a burst of concurrent posts,
    /// against a running server.
    SlackAck(crate::slack::bench::SlackAckArgs),
    /// The chat gateway against a real `aos serve` it starts: pass-through
    /// overhead (beside the upstream alone and LiteLLM), WebSocket density, and
    /// the pipeline before the first token at 100k chunks.
    Gateway(crate::eval::bench_gateway::GatewayArgs),
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    #[arg(long)]
    pub tenant: Uuid,
    /// Tags for every document, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub tags: Vec<String>,
    /// Personas the documents are for (cto, cro, coo, cfo; default all), comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub personas: Vec<String>,
    /// Files and folders; folders are walked recursively.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// nDCG@10, recall@10 and MRR@10 of lexical, dense and hybrid search on a
    /// BEIR-layout folder (corpus.jsonl, queries.jsonl, qrels/test.tsv).
    Retrieval {
        #[arg(long)]
        dataset: PathBuf,
        /// Extra hybrid runs with these fusion weights, `vector:lexical`, comma-separated.
        #[arg(long, value_delimiter = ',')]
        weights: Vec<String>,
        /// Extra lexical and hybrid runs with these BM25 postings-per-term cut-offs.
        #[arg(long, value_delimiter = ',')]
        postings: Vec<usize>,
    },
    /// Few-shot intent accuracy and out-of-scope detection on CLINC150.
    Intents {
        /// CLINC150 `train_val.json` (train, val, oos_train, oos_val).
        #[arg(long)]
        clinc: PathBuf,
        /// Training examples per intent.
        #[arg(long, default_value_t = 10)]
        shots: usize,
        /// Score with the encoder as shipped, without first fine-tuning it on
        /// the training examples (takes minutes; needs the local embedder).
        #[arg(long)]
        no_adapt: bool,
        /// Passes over the training examples when fine-tuning.
        #[arg(long, default_value_t = knowledge::embed::AdaptOptions::default().epochs)]
        adapt_epochs: usize,
        /// Share of held-out out-of-scope queries the threshold must reject.
        #[arg(long, default_value_t = 0.7)]
        target_oos_recall: f64,
    },
    /// Persona and intent accuracy on a labelled JSONL file (`text`, `persona`, `intent`).
    Personas {
        file: PathBuf,
        /// Fine-tune the encoder on the persona files' exemplars first, with
        /// this many passes (needs the local embedder).
        #[arg(long)]
        adapt_epochs: Option<usize>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant and print its id.
    Create {
        /// Display name of the organisation.
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user in a tenant and print the user's id.
    Create(CreateUserArgs),
}

#[derive(Debug, Args)]
pub struct CreateUserArgs {
    #[arg(long)]
    pub tenant: Uuid,
    #[arg(long)]
    pub email: String,
    /// At least 8 characters. Prefer --password-env in shared shells.
    #[arg(
        long,
        conflicts_with = "password_env",
        required_unless_present = "password_env"
    )]
    pub password: Option<String>,
    /// Read the password from this environment variable instead.
    #[arg(long)]
    pub password_env: Option<String>,
    /// viewer, analyst, approver or admin.
    #[arg(long)]
    pub role: Role,
    #[arg(long)]
    pub display_name: Option<String>,
    /// Usual persona: cto, cro, coo or cfo.
    #[arg(long)]
    pub persona: Option<Persona>,
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create an API key and print it (it is shown only once).
    Create {
        #[arg(long)]
        tenant: Uuid,
        /// viewer, analyst, approver or admin.
        #[arg(long)]
        role: Role,
        /// A label for the key.
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum MappingsCommand {
    /// Apply the mappings in a CSV file; rows that cannot apply are reported.
    Import {
        #[arg(long)]
        tenant: Uuid,
        file: PathBuf,
    },
    /// Write the approved mappings as CSV (to stdout without a file).
    Export {
        #[arg(long)]
        tenant: Uuid,
        file: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Create the demo tenant and its users if they are missing (idempotent).
    Seed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn user_create_parses_roles() {
        let cli = Cli::try_parse_from([
            "aos",
            "user",
            "create",
            "--tenant",
            "6f1c2b1e-9b7e-4f0e-8a39-1d1f3b3f9a10",
            "--email",
            "a@b.co",
            "--password",
            "long enough",
            "--role",
            "approver",
        ])
        .expect("parses");
        let Command::User(UserCommand::Create(args)) = cli.command else {
            panic!("wrong command");
        };
        assert_eq!(args.role, Role::Approver);
        assert!(Cli::try_parse_from(["aos", "user", "create", "--role", "root"]).is_err());
    }
}
