//! Notifications by incoming webhook, per tenant: an approval waiting (as a
//! card with its buttons), an agent run finished, connector drift detected.
//! Every replica hears every platform event, so each notification is first
//! claimed in Redis (`SET NX`) and posted by one replica only.

use serde_json::json;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tools::PlatformEvent;

use super::render;
use super::web::{self, Message};
use crate::domain::TenantId;
use crate::state::AppState;

/// Follows the platform events of every tenant until the process ends.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    let mut events = state.events.subscribe();
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok((tenant, event)) => {
                    if let Some(notice) = notice(&event) {
                        let state = state.clone();
                        tokio::spawn(
                            async move { deliver(&state, TenantId(tenant), notice).await },
                        );
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(
                        missed,
                        "Slack notifications fell behind the platform events"
                    );
                }
                Err(RecvError::Closed) => return,
            }
        }
    })
}

/// A notification to post, and the key that makes it once.
struct Notice {
    key: String,
    /// How long the key is kept (drift may be announced again later).
    keep: Duration,
    message: Message,
}

fn notice(event: &PlatformEvent) -> Option<Notice> {
    match event {
        PlatformEvent::ApprovalRequested { approval } => {
            let expires = approval.expires_at.format("%Y-%m-%d %H:%M UTC").to_string();
            Some(Notice {
                key: format!("approval:{}", approval.id),
                keep: Duration::from_secs(7 * 24 * 3600),
                message: render::approval_card(
                    approval.id,
                    &approval.action,
                    &approval.summary,
                    &expires,
                ),
            })
        }
        PlatformEvent::AgentProgress {
            run_id,
            status,
            note,
            ..
        } if status == "succeeded" || status == "failed" => {
            let icon = if status == "succeeded" {
                ":white_check_mark:"
            } else {
                ":x:"
            };
            let mut text = format!("{icon} Agent run `{run_id}` finished: *{status}*");
            if let Some(note) = note.as_deref().filter(|n| !n.is_empty()) {
                text.push_str(&format!("\n{}", render::escape(note)));
            }
            Some(Notice {
                key: format!("run:{run_id}:{status}"),
                keep: Duration::from_secs(7 * 24 * 3600),
                message: section(text),
            })
        }
        PlatformEvent::DriftDetected {
            connector_id,
            connector,
            entities,
        } => {
            let mut sorted = entities.clone();
            sorted.sort();
            let text = format!(
                ":warning: Schema drift on connector *{}*: {} changed shape. Review the mapping proposals before the next sync.",
                render::escape(connector),
                if sorted.is_empty() {
                    "its source".to_owned()
                } else {
                    sorted
                        .iter()
                        .map(|e| format!("`{}`", render::escape(e)))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            );
            Some(Notice {
                key: format!("drift:{connector_id}:{}", sorted.join(",")),
                keep: Duration::from_secs(3600),
                message: section(text),
            })
        }
        _ => None,
    }
}

fn section(text: String) -> Message {
    Message {
        blocks: Some(json!([{"type": "section", "text": {"type": "mrkdwn", "text": text}}])),
        text,
    }
}

async fn deliver(state: &AppState, tenant: TenantId, notice: Notice) {
    let webhooks = match webhooks(state, tenant).await {
        Ok(webhooks) if !webhooks.is_empty() => webhooks,
        Ok(_) => return,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the tenant's Slack webhooks");
            return;
        }
    };
    let key = format!(
        "{}slack:notified:{}:{}",
        state.settings.redis_prefix, tenant.0, notice.key
    );
    let mut redis = state.redis.clone();
    let claimed: Result<Option<String>, _> = redis::cmd("SET")
        .arg(&key)
        .arg(1)
        .arg("NX")
        .arg("EX")
        .arg(notice.keep.as_secs())
        .query_async(&mut redis)
        .await;
    match claimed {
        Ok(Some(_)) => {}
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, "cannot claim a Slack notification; skipping it");
            return;
        }
    }
    let mut body = json!({"text": notice.message.text});
    if let Some(blocks) = &notice.message.blocks {
        body["blocks"] = blocks.clone();
    }
    for (team_id, url) in webhooks {
        if let Err(e) = web::post_to_url(&state.slack.http, &url, &body).await {
            tracing::warn!(error = %e, team_id, "cannot post a Slack notification");
        }
    }
}

/// (team, webhook URL) of the tenant's workspaces that have one.
async fn webhooks(
    state: &AppState,
    tenant: TenantId,
) -> Result<Vec<(String, String)>, crate::error::ApiError> {
    let rows = {
        let mut tx = state.db.tenant(tenant).await?;
        super::store::workspaces(&mut tx).await?
    };
    let mut out = Vec::new();
    for row in rows.iter().filter(|r| r.webhook_url_enc.is_some()) {
        let workspace = state.slack.open(tenant, row)?;
        if let Some(url) = workspace.webhook_url {
            out.push((workspace.team_id, url.expose().to_owned()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn only_finished_runs_waiting_approvals_and_drift_are_announced() {
        let running = PlatformEvent::AgentProgress {
            run_id: Uuid::nil(),
            status: "running".into(),
            progress: 50,
            note: None,
        };
        assert!(notice(&running).is_none());
        let done = PlatformEvent::AgentProgress {
            run_id: Uuid::nil(),
            status: "succeeded".into(),
            progress: 100,
            note: Some("3 anomalies".into()),
        };
        let n = notice(&done).map(|n| n.message.text).unwrap_or_default();
        assert!(n.contains("succeeded") && n.contains("3 anomalies"), "{n}");
        let drift = PlatformEvent::DriftDetected {
            connector_id: Uuid::nil(),
            connector: "ops-files".into(),
            entities: vec!["tickets".into()],
        };
        let d = notice(&drift)
            .map(|n| (n.key, n.message.text))
            .unwrap_or_default();
        assert!(
            d.0.ends_with(":tickets") && d.1.contains("ops-files"),
            "{d:?}"
        );
    }
}
