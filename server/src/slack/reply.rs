//! One question asked in Slack, answered by the gateway pipeline: the turn's
//! events ([`MessageEvent`]) become a placeholder that grows with `chat.update`
//! (at most once per [`UPDATE_EVERY`], Slack's pace for edits), approval cards
//! when the turn needs a decision, and a final answer with its sources and
//! persona. A slash command's answer goes to its `response_url` instead,
//! once, when finished (a response URL takes only a few posts).

use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, mpsc};
use tokio::time::Instant;
use uuid::Uuid;

use super::render::{self, AnswerMeta};
use super::web::{self, Message, SlackError};
use super::{Workspace, store};
use crate::auth::Principal;
use crate::gateway::events::{ChatSend, Citation, EventBody, MessageEvent};
use crate::gateway::turn;
use crate::state::AppState;

/// The least time between two edits of the growing answer.
pub const UPDATE_EVERY: Duration = Duration::from_secs(1);
/// A turn silent this long is given up on (it waits for approvals up to 10 min).
const TURN_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// Where the answer goes.
pub enum Destination {
    /// A thread: placeholder, edits, final answer.
    Thread { channel: String, thread_ts: String },
    /// A slash command's `response_url`: the final answer, replacing the
    /// "working on it" acknowledgement.
    ResponseUrl(String),
}

/// A question to answer as `principal`.
pub struct Question<'a> {
    pub principal: &'a Principal,
    pub text: String,
    /// Unique per Slack event, so a replay starts no second turn.
    pub client_msg_id: String,
}

/// Runs the turn and renders it into Slack. Failures to reach Slack are
/// logged: there is no one else to tell.
pub async fn answer(
    state: &AppState,
    workspace: &Workspace,
    question: Question<'_>,
    destination: Destination,
    slot: Option<OwnedSemaphorePermit>,
) {
    let mut out = Output {
        state,
        workspace,
        destination,
        placeholder: None,
    };
    if let Err(e) = run(state, workspace, question, &mut out, slot).await {
        tracing::warn!(error = %e, team_id = workspace.team_id, "cannot answer in Slack");
    }
}

struct Output<'a> {
    state: &'a AppState,
    workspace: &'a Workspace,
    destination: Destination,
    /// (channel, ts) of the placeholder being edited.
    placeholder: Option<(String, String)>,
}

impl Output<'_> {
    fn http(&self) -> &reqwest::Client {
        &self.state.slack.http
    }

    /// Posts the placeholder (threads only).
    async fn start(&mut self) -> Result<(), SlackError> {
        if let Destination::Thread { channel, thread_ts } = &self.destination {
            let bot = self.workspace.bot(self.http());
            let ts = bot
                .post_message(channel, Some(thread_ts), &render::placeholder())
                .await?;
            self.placeholder = Some((channel.clone(), ts));
        }
        Ok(())
    }

    /// Replaces the placeholder with `message` (threads), or posts it to the
    /// response URL when `last` (slash commands).
    async fn show(&self, message: &Message, last: bool) -> Result<(), SlackError> {
        match (&self.destination, &self.placeholder) {
            (Destination::Thread { .. }, Some((channel, ts))) => {
                self.workspace
                    .bot(self.http())
                    .update(channel, ts, message)
                    .await
            }
            (Destination::Thread { channel, thread_ts }, None) => self
                .workspace
                .bot(self.http())
                .post_message(channel, Some(thread_ts), message)
                .await
                .map(|_| ()),
            (Destination::ResponseUrl(url), _) if last => {
                let mut body = json!({"response_type": "ephemeral", "replace_original": true,
                    "text": message.text});
                if let Some(blocks) = &message.blocks {
                    body["blocks"] = blocks.clone();
                }
                self.post_to_response_url(url, &body).await
            }
            (Destination::ResponseUrl(_), _) => Ok(()),
        }
    }

    async fn post_to_response_url(
        &self,
        url: &str,
        body: &serde_json::Value,
    ) -> Result<(), SlackError> {
        if !self.workspace.may_post_to(url) {
            return Err(SlackError::Api(
                "the response URL is not a Slack URL".into(),
            ));
        }
        web::post_to_url(self.http(), url, body).await
    }

    /// Posts an approval card; where it is, to mark it decided later.
    async fn card(&self, message: &Message) -> Result<Option<(String, String)>, SlackError> {
        match &self.destination {
            Destination::Thread { channel, thread_ts } => {
                let ts = self
                    .workspace
                    .bot(self.http())
                    .post_message(channel, Some(thread_ts), message)
                    .await?;
                Ok(Some((channel.clone(), ts)))
            }
            Destination::ResponseUrl(url) => {
                let mut body = json!({"response_type": "ephemeral", "replace_original": false,
                    "text": message.text});
                if let Some(blocks) = &message.blocks {
                    body["blocks"] = blocks.clone();
                }
                self.post_to_response_url(url, &body).await?;
                Ok(None)
            }
        }
    }

    async fn mark_card(&self, at: &(String, String), message: &Message) {
        let bot = self.workspace.bot(self.http());
        if let Err(e) = bot.update(&at.0, &at.1, message).await {
            tracing::warn!(error = %e, "cannot update an approval card in Slack");
        }
    }
}

async fn run(
    state: &AppState,
    workspace: &Workspace,
    question: Question<'_>,
    out: &mut Output<'_>,
    slot: Option<OwnedSemaphorePermit>,
) -> Result<(), SlackError> {
    let thread = match &out.destination {
        Destination::Thread { channel, thread_ts } => Some((channel.clone(), thread_ts.clone())),
        Destination::ResponseUrl(_) => None,
    };
    let user_id = question.principal.user_id().unwrap_or_default();
    // A follow-up in a thread continues that thread's conversation.
    let conversation_id = match &thread {
        Some((channel, thread_ts)) => {
            let key = store::Thread {
                tenant: workspace.tenant,
                team_id: &workspace.team_id,
                channel_id: channel,
                thread_ts,
                user_id,
            };
            match state.db.tenant(workspace.tenant).await {
                Ok(mut tx) => store::thread_conversation(&mut tx, &key)
                    .await
                    .ok()
                    .flatten(),
                Err(_) => None,
            }
        }
        None => None,
    };
    out.start().await?;

    let (tx, mut rx) = mpsc::channel::<MessageEvent>(256);
    let send = ChatSend {
        conversation_id,
        client_msg_id: question.client_msg_id.clone(),
        text: question.text.clone(),
        persona: None,
    };
    let admitted = match turn::start(state, question.principal, send, tx).await {
        Ok(admitted) => admitted,
        Err(e) => {
            let (_, message) = e.public();
            let meta = AnswerMeta {
                error: Some(&message),
                ..AnswerMeta::default()
            };
            return out.show(&render::final_answer("", &meta), true).await;
        }
    };
    drop(slot);
    if admitted.repeated {
        // Another delivery of the same Slack event already started this turn.
        return Ok(());
    }
    if let Some((channel, thread_ts)) = &thread
        && conversation_id != Some(admitted.conversation_id)
    {
        let key = store::Thread {
            tenant: workspace.tenant,
            team_id: &workspace.team_id,
            channel_id: channel,
            thread_ts,
            user_id,
        };
        if let Ok(mut db) = state.db.tenant(workspace.tenant).await
            && store::remember_thread(&mut db, &key, admitted.conversation_id)
                .await
                .is_ok()
        {
            let _ = db.commit().await;
        }
    }

    let mut stream = Stream::default();
    let mut last_shown = Instant::now();
    let mut cards: HashMap<Uuid, (String, String)> = HashMap::new();
    loop {
        let due = last_shown + UPDATE_EVERY;
        let next = tokio::select! {
            event = tokio::time::timeout(TURN_TIMEOUT, rx.recv()) => event,
            _ = tokio::time::sleep_until(due), if stream.dirty => {
                out.show(&render::progress(&stream.answer), false).await?;
                stream.dirty = false;
                last_shown = Instant::now();
                continue;
            }
        };
        let Ok(Some(event)) = next else {
            // The turn went quiet or away: show what there is.
            stream
                .error
                .get_or_insert_with(|| "the answer was interrupted".into());
            break;
        };
        match event.body {
            EventBody::Classification {
                persona, intent, ..
            } => {
                stream.persona = Some(persona);
                stream.intent = Some(intent);
            }
            EventBody::Retrieval { citations } => stream.citations = citations,
            EventBody::TextDelta { text } => {
                stream.answer.push_str(&text);
                stream.dirty = true;
            }
            EventBody::ApprovalRequired {
                approval_id,
                action,
                summary,
                expires_at,
                ..
            } => {
                let expires = expires_at.format("%Y-%m-%d %H:%M UTC").to_string();
                let card = render::approval_card(approval_id, &action, &summary, &expires);
                match out.card(&card).await {
                    Ok(Some(at)) => {
                        cards.insert(approval_id, at);
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "cannot post an approval card"),
                }
            }
            EventBody::ApprovalDecided {
                approval_id, by, ..
            } => {
                // Decided anywhere (web, API, Slack): the card shows the outcome.
                if let Some(at) = cards.get(&approval_id)
                    && let Some(message) = outcome(state, workspace, approval_id, by).await
                {
                    out.mark_card(at, &message).await;
                }
            }
            EventBody::Error { message, .. } => stream.error = Some(message),
            EventBody::MessageEnd { .. } => break,
            EventBody::MessageStart { .. }
            | EventBody::ToolCall { .. }
            | EventBody::ToolResult { .. } => {}
        }
    }
    let meta = AnswerMeta {
        persona: stream.persona,
        intent: stream.intent,
        citations: &stream.citations,
        error: stream.error.as_deref(),
    };
    out.show(&render::final_answer(&stream.answer, &meta), true)
        .await
}

/// What the turn has streamed so far.
#[derive(Default)]
struct Stream {
    answer: String,
    /// Text arrived since the last edit.
    dirty: bool,
    persona: Option<personas::Persona>,
    intent: Option<personas::Intent>,
    citations: Vec<Citation>,
    error: Option<String>,
}

/// The decided card of an approval, naming who decided.
pub async fn outcome(
    state: &AppState,
    workspace: &Workspace,
    approval_id: Uuid,
    by: Option<Uuid>,
) -> Option<Message> {
    let approval = {
        let mut tx = state.db.tenant(workspace.tenant).await.ok()?;
        tools::approvals::get(&mut tx, approval_id).await.ok()??
    };
    let label = match by {
        Some(user) => super::user_label(state, workspace.tenant, user).await,
        None => None,
    };
    Some(render::approval_outcome(&approval, label.as_deref()))
}
