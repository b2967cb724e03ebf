//! `aos slack …`: register a workspace and link Slack users from the command
//! line, through the same code as the admin API.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use uuid::Uuid;

use super::admin::{AddWorkspace, MapUser, link_user, register_workspace};
use super::seal::SecretBox;
use crate::domain::TenantId;
use crate::store::Db;
use crate::store::audit::Actor;

#[derive(Debug, Subcommand)]
pub enum SlackCommand {
    /// Register a Slack workspace (team) for a tenant, or replace its secrets.
    Add(AddArgs),
    /// Link a Slack user to a platform user, who they then act as in Slack.
    MapUser(MapUserArgs),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    #[arg(long)]
    pub tenant: Uuid,
    /// The Slack team id (T…).
    #[arg(long)]
    pub team_id: String,
    /// The Slack app's signing secret.
    #[arg(long, env = "AOS_SLACK_SIGNING_SECRET", hide_env_values = true)]
    pub signing_secret: String,
    /// The bot user OAuth token (xoxb-…).
    #[arg(long, env = "AOS_SLACK_BOT_TOKEN", hide_env_values = true)]
    pub bot_token: String,
    /// The Slack Web API base URL [default: https://slack.com/api].
    #[arg(long)]
    pub api_base: Option<String>,
    /// An incoming-webhook URL for the tenant's notifications.
    #[arg(long)]
    pub webhook_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct MapUserArgs {
    #[arg(long)]
    pub tenant: Uuid,
    #[arg(long)]
    pub team_id: String,
    /// The Slack user id (U…).
    #[arg(long)]
    pub slack_user: String,
    /// The platform user's id.
    #[arg(long, conflicts_with = "email", required_unless_present = "email")]
    pub user_id: Option<Uuid>,
    /// The platform user's email.
    #[arg(long)]
    pub email: Option<String>,
}

/// Runs an `aos slack` command. `master` is `AOS_JWT_SECRET`, which the
/// sealing key is derived from: it must be the one the servers use.
pub async fn run(db: &Db, master: Option<&str>, command: SlackCommand) -> Result<()> {
    let tenant = match &command {
        SlackCommand::Add(args) => args.tenant,
        SlackCommand::MapUser(args) => args.tenant,
    };
    {
        let mut tx = db.tenant(TenantId(tenant)).await?;
        crate::store::tenants::current(&mut tx)
            .await
            .with_context(|| format!("tenant {tenant} does not exist"))?;
    }
    match command {
        SlackCommand::Add(args) => {
            let master = master.context(
                "AOS_JWT_SECRET is not set: Slack secrets are encrypted with a key derived from it (use the servers' value)",
            )?;
            let secrets = SecretBox::from_master_secret(master.as_bytes());
            let tenant = TenantId(args.tenant);
            let (view, created) = register_workspace(
                db,
                &secrets,
                tenant,
                Actor::System,
                AddWorkspace {
                    team_id: args.team_id,
                    signing_secret: args.signing_secret,
                    bot_token: args.bot_token,
                    api_base: args.api_base,
                    webhook_url: args.webhook_url,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!(e.public().1))
            .context("cannot register the Slack workspace")?;
            eprintln!(
                "Slack team {} {} for tenant {} (API {})",
                view.team_id,
                if created { "registered" } else { "updated" },
                tenant,
                view.api_base
            );
            println!("{}", view.team_id);
            Ok(())
        }
        SlackCommand::MapUser(args) => {
            let link = link_user(
                db,
                TenantId(args.tenant),
                Actor::System,
                MapUser {
                    team_id: args.team_id,
                    slack_user_id: args.slack_user,
                    user_id: args.user_id,
                    email: args.email,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!(e.public().1))
            .context("cannot link the Slack user")?;
            eprintln!(
                "Slack user {}/{} acts as {} ({})",
                link.team_id, link.slack_user_id, link.email, link.user_id
            );
            println!("{}", link.user_id);
            Ok(())
        }
    }
}
