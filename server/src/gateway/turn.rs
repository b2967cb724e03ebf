//! One user turn through the pipeline: admit, redact, classify, retrieve,
//! plan and act, answer, record. Events go to the caller's channel and to a
//! Redis buffer, so a client that reconnects (to any replica) can resume.

use knowledge::embed::Embedded;
use personas::{ClassifyInput, Intent, PreviousTurn};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tools::registry::InvokeOptions;
use tools::{ApprovalStatus, Caller, ToolContext, ToolError};
use uuid::Uuid;

use super::answer;
use super::buffer::EventBuffer;
use super::composer::{self, Material, ToolOutcome};
use super::events::{
    Alternative, ChatSend, Citation, CitationScores, EventBody, FinishReason, MessageEvent,
    Timings, Usage,
};
use super::redact::Redactor;
use super::route;
use super::store::{self, AssistantRecord};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;

/// How long a turn waits for a person to decide an approval it raised.
const APPROVAL_WAIT: Duration = Duration::from_secs(600);
/// Passages retrieved to ground an answer.
const CITATIONS: usize = 5;
/// LLM rounds in one turn (each may call tools), and the time they may take.
const MAX_TOOL_STEPS: usize = 4;
const MAX_TOOL_LOOP: Duration = Duration::from_secs(90);

/// Restores placeholders in every string of a JSON value.
fn restore_strings(redactor: &Redactor, value: &mut Value) {
    match value {
        Value::String(text) => *text = redactor.restore(text),
        Value::Array(items) => items.iter_mut().for_each(|v| restore_strings(redactor, v)),
        Value::Object(map) => map.values_mut().for_each(|v| restore_strings(redactor, v)),
        _ => {}
    }
}

/// At most `max` bytes of `text`, cut on a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let cut = (0..=max)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    &text[..cut]
}

/// A turn that was admitted: where its events go.
#[derive(Debug, Clone, Copy)]
pub struct Admitted {
    pub conversation_id: Uuid,
    pub message_id: Uuid,
    /// The same `client_msg_id` was sent before: replay that turn instead.
    pub repeated: bool,
}

/// Emits the numbered events of one assistant message.
pub struct Emitter {
    pub conversation_id: Uuid,
    pub message_id: Uuid,
    seq: u64,
    out: mpsc::Sender<MessageEvent>,
    buffer: EventBuffer,
}

impl Emitter {
    pub async fn emit(&mut self, body: EventBody) {
        let event = MessageEvent {
            conversation_id: self.conversation_id,
            message_id: self.message_id,
            seq: self.seq,
            body,
        };
        self.seq += 1;
        self.buffer.append(&event).await;
        // The client may be gone; the turn still finishes and is recorded,
        // and a reconnecting client resumes from the buffer.
        let _ = self.out.send(event).await;
    }
}

/// How a front door wants a turn run; the default is the full pipeline.
#[derive(Debug, Clone, Copy)]
pub struct TurnOptions {
    /// Ground the answer in the tenant's documents. Off for pass-through use
    /// of the OpenAI-compatible API (`"aos": {"retrieval": false}`), where the
    /// caller brings its own context.
    pub retrieval: bool,
    /// Let a confident intent run its tool before the answer (deterministic
    /// routing). Off for pass-through use (`"aos": {"routing": false}`): the
    /// LLM still has the persona's tools and calls them itself.
    pub routing: bool,
}

impl Default for TurnOptions {
    fn default() -> TurnOptions {
        TurnOptions {
            retrieval: true,
            routing: true,
        }
    }
}

/// Validates and admits a turn, then runs it in the background.
pub async fn start(
    state: &AppState,
    principal: &Principal,
    send: ChatSend,
    out: mpsc::Sender<MessageEvent>,
) -> Result<Admitted, ApiError> {
    start_with(state, principal, send, TurnOptions::default(), out).await
}

/// [`start`] with options other than the defaults.
pub async fn start_with(
    state: &AppState,
    principal: &Principal,
    send: ChatSend,
    options: TurnOptions,
    out: mpsc::Sender<MessageEvent>,
) -> Result<Admitted, ApiError> {
    let gateway = &state.gateway;
    let text = send.text.trim().to_owned();
    if text.is_empty() {
        return Err(ApiError::Validation("`text` must not be empty".into()));
    }
    if text.chars().count() > gateway.limits.max_text_chars {
        return Err(ApiError::Validation(format!(
            "`text` is longer than {} characters",
            gateway.limits.max_text_chars
        )));
    }
    let client_msg_id = send.client_msg_id.trim().to_owned();
    if client_msg_id.is_empty() || client_msg_id.len() > 100 {
        return Err(ApiError::Validation(
            "`client_msg_id` must be 1 to 100 characters".into(),
        ));
    }
    gateway.limits.check(state, principal).await?;

    let mut tx = state.db.tenant(principal.tenant).await?;
    let conversation_id = match send.conversation_id {
        Some(id) => {
            store::find_owned(&mut tx, id, principal.actor())
                .await?
                .ok_or_else(|| ApiError::NotFound("conversation not found".into()))?;
            id
        }
        None => {
            let id = Uuid::new_v4();
            let title: String = text.chars().take(80).collect();
            store::create(&mut tx, id, principal.actor(), &title).await?;
            id
        }
    };
    let message_id = Uuid::new_v4();
    if let Some(previous) = gateway
        .claim_client_msg_id(
            state,
            principal,
            &client_msg_id,
            conversation_id,
            message_id,
        )
        .await?
    {
        return Ok(Admitted {
            conversation_id: previous.0,
            message_id: previous.1,
            repeated: true,
        });
    }
    let user_message_id = Uuid::new_v4();
    store::add_user_message(
        &mut tx,
        conversation_id,
        user_message_id,
        &text,
        &client_msg_id,
    )
    .await?;
    tx.commit().await.map_err(ApiError::internal)?;

    let owner = super::buffer::Owner::of(principal);
    let cancel = gateway.register(owner, message_id);
    let emitter = Emitter {
        conversation_id,
        message_id,
        seq: 0,
        out,
        buffer: EventBuffer::new(state, owner, message_id),
    };
    let state = state.clone();
    let principal = principal.clone();
    tokio::spawn(async move {
        let job = Job {
            state: &state,
            principal: &principal,
            text: &text,
            client_msg_id: &client_msg_id,
            persona_hint: send.persona,
            options,
            new_conversation: send.conversation_id.is_none(),
            user_message_id,
            cancel: &cancel,
        };
        job.run(emitter).await;
        state.gateway.unregister(message_id);
    });
    Ok(Admitted {
        conversation_id,
        message_id,
        repeated: false,
    })
}

struct Job<'a> {
    state: &'a AppState,
    principal: &'a Principal,
    text: &'a str,
    client_msg_id: &'a str,
    persona_hint: Option<personas::Persona>,
    options: TurnOptions,
    /// The conversation was created by this turn.
    new_conversation: bool,
    user_message_id: Uuid,
    cancel: &'a CancellationToken,
}

/// What classifying the turn's question takes.
struct Classify<'a> {
    text: &'a str,
    persona_hint: Option<personas::Persona>,
    previous: Option<PreviousTurn>,
}

/// What the turn produced, for the record.
#[derive(Default)]
struct Outcome {
    answer: String,
    persona: Option<personas::Persona>,
    intent: Option<Intent>,
    confidence: Option<f32>,
    citations: Vec<Citation>,
    tool_calls: Vec<Value>,
    approvals: Vec<Value>,
    model: Option<String>,
    usage: Usage,
    timings: Timings,
}

impl Job<'_> {
    async fn run(self, mut emit: Emitter) {
        let started = Instant::now();
        let mut outcome = Outcome::default();
        emit.emit(EventBody::MessageStart {
            client_msg_id: self.client_msg_id.to_owned(),
        })
        .await;
        let finish = match self.pipeline(&mut emit, &mut outcome).await {
            Ok(finish) => finish,
            Err(err) => {
                let (error_type, message) = err.public();
                emit.emit(EventBody::Error {
                    error_type: error_type.into(),
                    message,
                })
                .await;
                FinishReason::Error
            }
        };
        outcome.timings.total = millis(started);
        if let Err(err) = self.record(&emit, &outcome, finish).await {
            tracing::error!(error = %err, "cannot record an assistant message");
        }
        emit.emit(EventBody::MessageEnd {
            finish_reason: finish,
            usage: outcome.usage,
            timings_ms: outcome.timings,
        })
        .await;
    }

    async fn pipeline(
        &self,
        emit: &mut Emitter,
        outcome: &mut Outcome,
    ) -> Result<FinishReason, ApiError> {
        let state = self.state;
        let tenant = self.principal.tenant;
        let conversation = emit.conversation_id;
        // A conversation this turn started has nothing before the question.
        let history = match self.new_conversation {
            true => Vec::new(),
            false => {
                let mut tx = state.db.tenant(tenant).await?;
                store::messages(&mut tx, conversation).await?
            }
        };
        let mut redactor = Redactor::for_history(
            history
                .iter()
                .filter(|m| m.id != self.user_message_id)
                .map(|m| m.text.as_str()),
        );
        let redacted_question = redactor.redact(self.text);
        let previous = history
            .iter()
            .rev()
            .find(|m| m.role == "assistant")
            .and_then(|m| {
                Some(PreviousTurn {
                    persona: m.persona.as_deref()?.parse().ok()?,
                    intent: m.intent.as_deref()?.parse().ok()?,
                })
            });
        let persona_hint = match self.persona_hint {
            Some(p) => Some(p),
            None => self.profile_persona().await,
        };

        // Classify, when something uses the result: a persona not pinned by
        // the request, the retrieval scope, the deterministic route, or the
        // offline composer. A pass-through turn (persona pinned, no retrieval,
        // no routing, an LLM to answer) has none of those, and leaves tool
        // choice to the LLM.
        let classify = Classify {
            text: &redacted_question,
            persona_hint,
            previous,
        };
        let needs_intent =
            self.options.retrieval || self.options.routing || state.gateway.llm.is_none();
        let (persona, mut classification, question_vector) = match self.persona_hint {
            Some(pinned) if !needs_intent => (pinned, None, None),
            _ => {
                // Embedded once, for the classifier and the search.
                let stage = Instant::now();
                let vector = self.embed_question(&redacted_question).await;
                outcome.timings.classify += millis(stage);
                let embedder = state.knowledge.embedder();
                let given = vector.as_deref().map(|vector| Embedded {
                    model_id: embedder.model_id(),
                    vector,
                });
                let c = self.classify(&classify, given, emit, outcome).await?;
                (c.persona, Some(c), vector)
            }
        };
        outcome.persona = Some(persona);
        if self.cancel.is_cancelled() {
            return Ok(FinishReason::Cancelled);
        }
        let definition = state.gateway.personas.get(persona).clone();

        // Retrieve.
        let stage = Instant::now();
        if self.options.retrieval
            && classification
                .as_ref()
                .is_some_and(|c| !matches!(c.intent, Intent::OutOfScope | Intent::PlatformHelp))
        {
            let mut query = knowledge::search::SearchQuery::new(&redacted_question, CITATIONS);
            query.scope = definition.retrieval_scope();
            query.weights = definition.fusion;
            let embedder = state.knowledge.embedder();
            let given = question_vector.as_deref().map(|vector| Embedded {
                model_id: embedder.model_id(),
                vector,
            });
            let results = state
                .knowledge
                .search_embedded(&state.db, tenant, &query, given)
                .await?;
            outcome.citations = results
                .hits
                .into_iter()
                .enumerate()
                .map(|(i, hit)| Citation {
                    n: i + 1,
                    document_id: hit.document_id,
                    chunk_id: hit.chunk_id,
                    title: hit.title,
                    snippet: hit.snippet,
                    score: hit.score,
                    scores: CitationScores {
                        vector_rank: hit.scores.vector_rank,
                        lexical_rank: hit.scores.lexical_rank,
                        fused: hit.scores.fused,
                        vector_similarity: hit.scores.vector_similarity,
                        bm25: hit.scores.bm25,
                    },
                })
                .collect();
            emit.emit(EventBody::Retrieval {
                citations: outcome.citations.clone(),
            })
            .await;
        }
        outcome.timings.retrieve = millis(stage);
        if self.cancel.is_cancelled() {
            return Ok(FinishReason::Cancelled);
        }

        // Plan and act.
        let stage = Instant::now();
        let ctx = ToolContext {
            platform: state.platform.clone(),
            caller: Caller {
                tenant: tenant.0,
                actor: self.principal.actor(),
                role: self.principal.role,
                persona: Some(persona),
            },
            conversation_id: Some(conversation),
        };
        let mut results = Vec::new();
        let planned = match (&classification, self.options.routing) {
            (Some(c), true) => {
                let action = if c.confidence >= route::ACT_CONFIDENCE
                    && route::wants_action(c.intent, self.text)
                {
                    self.plan_action(&definition, c.intent).await?
                } else {
                    None
                };
                action.or_else(|| route::plan(&definition, c.intent, c.confidence, self.text))
            }
            _ => None,
        };
        if let Some(call) = planned {
            let call_id = format!("call_{}", Uuid::new_v4().simple());
            let result = self
                .call_tool(emit, &ctx, &call_id, call.tool, call.arguments, outcome)
                .await;
            if let Some(result) = result {
                results.push(result);
            }
        }
        outcome.timings.tools = millis(stage);
        if self.cancel.is_cancelled() {
            return Ok(FinishReason::Cancelled);
        }

        // Answer: the LLM when configured and up, else the offline composer.
        let stage = Instant::now();
        let before_answer =
            outcome.timings.classify + outcome.timings.retrieve + outcome.timings.tools;
        let mut llm_unavailable = None;
        if let Some(llm) = &state.gateway.llm {
            let turns: Vec<(String, String)> = history
                .iter()
                .filter(|m| m.id != self.user_message_id)
                .map(|m| (m.role.clone(), m.text.clone()))
                .collect();
            let mut request = answer::request(
                &answer::Prompt {
                    definition: &definition,
                    history: &turns,
                    question: self.text,
                    citations: &outcome.citations,
                    tools: &results,
                },
                &mut redactor,
                |text| state.knowledge.count_tokens(text),
            );
            request.tools = state
                .tools
                .available_to(&ctx)
                .map(|spec| super::llm::ToolDefinition {
                    name: spec.name.to_owned(),
                    description: spec.description.to_owned(),
                    parameters: spec.parameters.clone(),
                })
                .collect();
            let deadline = Instant::now() + MAX_TOOL_LOOP;
            let mut step = 0;
            loop {
                step += 1;
                let streamed = self
                    .stream_llm(
                        llm,
                        &request,
                        &redactor,
                        emit,
                        outcome,
                        stage,
                        before_answer,
                    )
                    .await;
                match streamed {
                    Ok((answer::Streamed::Done(usage), calls)) => {
                        outcome.usage.prompt_tokens += usage.prompt_tokens;
                        outcome.usage.completion_tokens += usage.completion_tokens;
                        outcome.model = Some(llm.model().to_owned());
                        if calls.is_empty() {
                            return Ok(FinishReason::Stop);
                        }
                        if step >= MAX_TOOL_STEPS || Instant::now() > deadline {
                            if outcome.answer.is_empty() {
                                llm_unavailable =
                                    Some("it kept calling tools past the step limit".to_owned());
                                break;
                            }
                            return Ok(FinishReason::Stop);
                        }
                        let tool_stage = Instant::now();
                        request
                            .messages
                            .push(super::llm::ChatMessage::assistant_tool_calls(calls.clone()));
                        for call in calls {
                            let mut arguments: Value =
                                serde_json::from_str(&call.arguments).unwrap_or_else(|_| json!({}));
                            // The model saw placeholders; the tool gets the real values.
                            restore_strings(&redactor, &mut arguments);
                            let result = self
                                .call_tool(emit, &ctx, &call.id, &call.name, arguments, outcome)
                                .await;
                            let content = match &result {
                                Some(r) => redactor.redact(&format!(
                                    "{} ({})\n{}",
                                    r.summary,
                                    if r.ok { "ok" } else { "failed" },
                                    truncate(&r.data.to_string(), 4000)
                                )),
                                None => "no result".to_owned(),
                            };
                            request
                                .messages
                                .push(super::llm::ChatMessage::tool(call.id, content));
                            results.extend(result);
                        }
                        outcome.timings.tools += millis(tool_stage);
                        if self.cancel.is_cancelled() {
                            return Ok(FinishReason::Cancelled);
                        }
                    }
                    Ok((answer::Streamed::Cancelled(usage), _)) => {
                        outcome.usage = usage;
                        outcome.model = Some(llm.model().to_owned());
                        return Ok(FinishReason::Cancelled);
                    }
                    Err(e) if outcome.answer.is_empty() => {
                        tracing::warn!(error = %e, "LLM unavailable; answering offline");
                        llm_unavailable = Some(e.to_string());
                        break;
                    }
                    Err(e) => {
                        return Err(ApiError::Unavailable(format!(
                            "the language model stopped mid-answer: {e}"
                        )));
                    }
                }
            }
        }
        // The composer writes from the intent: a pass-through turn whose LLM
        // failed is classified now.
        let intent = match classification.take() {
            Some(c) => c.intent,
            None => self.classify(&classify, None, emit, outcome).await?.intent,
        };
        let answer = composer::compose(&Material {
            definition: &definition,
            intent,
            question: self.text,
            citations: &outcome.citations,
            tools: &results,
            llm_unavailable: llm_unavailable.as_deref(),
        });
        outcome.timings.first_token = millis(stage) + before_answer;
        for piece in answer.split_inclusive('\n') {
            if self.cancel.is_cancelled() {
                return Ok(FinishReason::Cancelled);
            }
            outcome.answer.push_str(piece);
            emit.emit(EventBody::TextDelta {
                text: piece.to_owned(),
            })
            .await;
        }
        Ok(FinishReason::Stop)
    }

    /// Streams the LLM's answer to the client as it arrives.
    #[allow(clippy::too_many_arguments)]
    async fn stream_llm(
        &self,
        llm: &super::llm::LlmClient,
        request: &super::llm::ChatRequest,
        redactor: &Redactor,
        emit: &mut Emitter,
        outcome: &mut Outcome,
        stage: Instant,
        before_answer: u64,
    ) -> Result<(answer::Streamed, Vec<super::llm::ToolCall>), super::llm::LlmError> {
        let mut visible = answer::Visible::new(&outcome.citations);
        let mut usage = Usage::default();
        let mut calls = Vec::new();
        let mut stream = llm.stream(request).await?;
        loop {
            let Some(next) = answer::next_delta(&mut stream, self.cancel).await else {
                return Ok((answer::Streamed::Cancelled(usage), calls));
            };
            let text = match next {
                None => {
                    let tail = visible.finish(redactor);
                    if !tail.is_empty() {
                        outcome.answer.push_str(&tail);
                        emit.emit(EventBody::TextDelta { text: tail }).await;
                    }
                    return Ok((answer::Streamed::Done(usage), calls));
                }
                Some(Err(e)) => return Err(e),
                Some(Ok(super::llm::LlmDelta::Usage {
                    prompt_tokens,
                    completion_tokens,
                })) => {
                    usage = Usage {
                        prompt_tokens,
                        completion_tokens,
                    };
                    continue;
                }
                Some(Ok(super::llm::LlmDelta::Text(text))) => visible.push(redactor, &text),
                Some(Ok(super::llm::LlmDelta::ToolCalls(more))) => {
                    calls.extend(more);
                    continue;
                }
                Some(Ok(_)) => continue,
            };
            if text.is_empty() {
                continue;
            }
            if outcome.answer.is_empty() {
                outcome.timings.first_token = millis(stage) + before_answer;
            }
            outcome.answer.push_str(&text);
            emit.emit(EventBody::TextDelta { text }).await;
        }
    }

    /// Classifies the question, keeping a persona the user picked (a pin,
    /// not a hint: the classifier still decides the intent), and announces
    /// the result.
    async fn classify(
        &self,
        input: &Classify<'_>,
        embedding: Option<Embedded<'_>>,
        emit: &mut Emitter,
        outcome: &mut Outcome,
    ) -> Result<personas::Classification, ApiError> {
        let stage = Instant::now();
        let mut classification = self
            .state
            .classify
            .classify(
                &self.state.db,
                self.principal.tenant,
                ClassifyInput {
                    text: input.text,
                    persona_hint: input.persona_hint,
                    previous: input.previous,
                    embedding,
                },
            )
            .await?;
        outcome.timings.classify += millis(stage);
        if let Some(pinned) = self.persona_hint {
            classification.persona = pinned;
        }
        outcome.persona = Some(classification.persona);
        outcome.intent = Some(classification.intent);
        outcome.confidence = Some(classification.confidence);
        emit.emit(EventBody::Classification {
            persona: classification.persona,
            intent: classification.intent,
            confidence: classification.confidence,
            alternatives: classification
                .alternatives
                .iter()
                .map(|a| Alternative {
                    persona: classification.persona,
                    intent: a.intent,
                    confidence: a.confidence,
                })
                .collect(),
        })
        .await;
        Ok(classification)
    }

    /// The question's embedding; `None` if the embedder failed, in which case
    /// the classifier and the search try again and report the error.
    async fn embed_question(&self, text: &str) -> Option<Vec<f32>> {
        let embedder = self.state.knowledge.embedder();
        match embedder.embed(&[text.to_owned()]).await {
            Ok(mut vectors) => vectors.pop(),
            Err(err) => {
                tracing::warn!(error = %err, "cannot embed the question");
                None
            }
        }
    }

    /// Runs one tool call, streaming its events; an approval it needs is
    /// announced and waited for, so the answer can continue once decided.
    async fn call_tool(
        &self,
        emit: &mut Emitter,
        ctx: &ToolContext,
        call_id: &str,
        name: &str,
        arguments: Value,
        outcome: &mut Outcome,
    ) -> Option<ToolOutcome> {
        emit.emit(EventBody::ToolCall {
            call_id: call_id.to_owned(),
            name: name.to_owned(),
            arguments: arguments.clone(),
        })
        .await;
        let options = InvokeOptions {
            idempotency_key: Some(format!("{}:{call_id}", emit.message_id)),
        };
        let result = self
            .state
            .tools
            .invoke(ctx, name, arguments.clone(), options)
            .await;
        let (ok, summary, data) = match result {
            Ok(output) => (true, output.summary, output.data),
            Err(ToolError::NeedsApproval(approval)) => {
                outcome
                    .approvals
                    .push(json!({"approval_id": approval.id, "action": approval.action}));
                emit.emit(EventBody::ApprovalRequired {
                    approval_id: approval.id,
                    action: approval.action.clone(),
                    arguments: approval.arguments.clone(),
                    summary: approval.summary.clone(),
                    expires_at: approval.expires_at,
                })
                .await;
                match self.wait_for_decision(approval.id).await {
                    Some(decided) => {
                        emit.emit(EventBody::ApprovalDecided {
                            approval_id: decided.id,
                            decision: super::events::decision_of(decided.status).to_owned(),
                            status: decided.status,
                            by: decided.decided_by.and_then(|a| a.columns().0),
                        })
                        .await;
                        match decided.status {
                            ApprovalStatus::Executed => {
                                let result = decided.result.unwrap_or(Value::Null);
                                let summary = result
                                    .get("summary")
                                    .and_then(Value::as_str)
                                    .unwrap_or(&decided.summary)
                                    .to_owned();
                                let data = result.get("data").cloned().unwrap_or(Value::Null);
                                (true, summary, data)
                            }
                            ApprovalStatus::Rejected => {
                                (false, format!("rejected: {}", decided.summary), Value::Null)
                            }
                            _ => (
                                false,
                                decided
                                    .error
                                    .unwrap_or_else(|| decided.status.as_str().into()),
                                Value::Null,
                            ),
                        }
                    }
                    None => (
                        false,
                        "no decision yet; it stays in the approvals inbox".to_owned(),
                        Value::Null,
                    ),
                }
            }
            Err(e) => (false, e.to_string(), Value::Null),
        };
        emit.emit(EventBody::ToolResult {
            call_id: call_id.to_owned(),
            ok,
            summary: summary.clone(),
            data: data.clone(),
        })
        .await;
        outcome.tool_calls.push(json!({
            "call_id": call_id, "name": name, "arguments": arguments,
            "ok": ok, "summary": summary, "data": data,
        }));
        Some(ToolOutcome {
            name: name.to_owned(),
            ok,
            summary,
            data,
        })
    }

    /// The action the text names precisely, looked up among the tenant's
    /// pending mappings and connectors.
    async fn plan_action(
        &self,
        definition: &personas::PersonaDefinition,
        intent: Intent,
    ) -> Result<Option<route::PlannedCall>, ApiError> {
        let mut tx = self.state.db.tenant(self.principal.tenant).await?;
        let internal = |e: sqlx::Error| ApiError::Internal(e.into());
        let pending: Vec<route::PendingMapping> = tools::mapping::list_pending(&mut tx, None, 200)
            .await
            .map_err(internal)?
            .into_iter()
            .map(|p| route::PendingMapping {
                id: p.id,
                source_field: p.source_field,
            })
            .collect();
        let connectors: Vec<String> = tools::connectors::list(&mut tx)
            .await
            .map_err(internal)?
            .into_iter()
            .map(|c| c.name)
            .collect();
        Ok(route::plan_action(
            definition,
            intent,
            self.text,
            &pending,
            &connectors,
        ))
    }

    /// Polls the approval until it is decided, expires, or the turn is cancelled.
    async fn wait_for_decision(&self, approval_id: Uuid) -> Option<tools::Approval> {
        let deadline = Instant::now() + APPROVAL_WAIT;
        while Instant::now() < deadline && !self.cancel.is_cancelled() {
            if let Ok(mut tx) = self.state.db.tenant(self.principal.tenant).await
                && let Ok(Some(approval)) = tools::approvals::get(&mut tx, approval_id).await
                && !matches!(
                    approval.status,
                    ApprovalStatus::Pending | ApprovalStatus::Approved
                )
            {
                return Some(approval);
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(300)) => {}
                _ = self.cancel.cancelled() => {}
            }
        }
        None
    }

    async fn profile_persona(&self) -> Option<personas::Persona> {
        let user = self.principal.user_id()?;
        let mut tx = self.state.db.tenant(self.principal.tenant).await.ok()?;
        crate::store::users::get(&mut tx, user).await.ok()?.persona
    }

    async fn record(
        &self,
        emit: &Emitter,
        outcome: &Outcome,
        finish: FinishReason,
    ) -> Result<(), ApiError> {
        let mut tx = self.state.db.tenant(self.principal.tenant).await?;
        let finish_reason = serde_json::to_value(finish)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        store::add_assistant_message(
            &mut tx,
            AssistantRecord {
                id: emit.message_id,
                conversation: emit.conversation_id,
                reply_to: self.user_message_id,
                text: &outcome.answer,
                persona: outcome.persona.map(|p| p.as_str()),
                intent: outcome.intent.map(|i| i.as_str()),
                confidence: outcome.confidence,
                citations: serde_json::to_value(&outcome.citations).unwrap_or_default(),
                tool_calls: Value::Array(outcome.tool_calls.clone()),
                approvals: Value::Array(outcome.approvals.clone()),
                model: outcome.model.as_deref(),
                prompt_tokens: outcome.usage.prompt_tokens,
                completion_tokens: outcome.usage.completion_tokens,
                timings_ms: serde_json::to_value(outcome.timings).unwrap_or_default(),
                finish_reason: &finish_reason,
            },
        )
        .await?;
        tx.commit().await.map_err(ApiError::internal)?;
        Ok(())
    }
}

fn millis(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}
