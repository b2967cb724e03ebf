// The stream-event reducer: folds server events into message state. Pure, so
// it can be tested without a socket or a DOM.
//
// Each message's events carry a `seq` increasing from 0. Events are applied in
// seq order: an event behind `nextSeq` is a duplicate (a replay after a
// reconnect) and is dropped; one ahead of it waits in `ahead` until the gap
// fills. Events for a message whose `message.start` has not been seen yet wait
// in `orphans`.

import type { Approval, ConversationDetail } from "../api/types";
import {
  type AssistantMessage,
  type ChatMessage,
  type ChatState,
  type SendRequest,
  approvalViewFromRest,
  decidedStatus,
  emptyAssistant,
  initialChatState,
  isActive,
  laterStatus,
  stateFromHistory,
  statusOfFinish,
} from "./model";
import {
  type ClientCommand,
  type ConnectionErrorEvent,
  type MessageEvent,
  type Persona,
  type ServerEvent,
  isMessageEvent,
} from "./protocol";

export type ChatAction =
  | { type: "send"; clientMsgId: string; text: string; persona: Persona | null }
  | { type: "event"; event: ServerEvent }
  | { type: "cancel"; key: string }
  | { type: "history"; conversation: ConversationDetail }
  | { type: "approval"; approval: Approval }
  | { type: "new-conversation" }
  | { type: "dismiss-notice" };

/** How many early events to hold per unknown message, and how many such messages. */
const ORPHAN_EVENTS_MAX = 1000;
const ORPHAN_MESSAGES_MAX = 16;

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case "send":
      return send(state, action.clientMsgId, action.text, action.persona);
    case "event":
      return receive(state, action.event);
    case "cancel":
      return mapMessages(state, (m) =>
        m.role === "assistant" && m.key === action.key && isActive(m) ? { ...m, cancelRequested: true } : m,
      );
    case "history":
      return stateFromHistory(action.conversation);
    case "approval":
      return applyDecision(state, action.approval.id, approvalViewFromRest(action.approval));
    case "new-conversation":
      return initialChatState;
    case "dismiss-notice":
      return { ...state, notice: null };
  }
}

function send(state: ChatState, clientMsgId: string, text: string, persona: Persona | null): ChatState {
  const request: SendRequest = {
    client_msg_id: clientMsgId,
    text,
    persona,
    conversation_id: state.conversationId,
  };
  const user: ChatMessage = { role: "user", key: `u-${clientMsgId}`, id: null, text, created_at: null };
  const assistant = emptyAssistant(`a-${clientMsgId}`, request);
  return { ...state, notice: null, messages: [...state.messages, user, assistant] };
}

function receive(state: ChatState, event: ServerEvent): ChatState {
  if (event.type === "pong") return state;
  if (!isMessageEvent(event)) {
    if (event.type === "approval.decided") {
      return applyDecision(state, event.approval_id, {
        status: decidedStatus(event),
        decided_by: event.by ?? null,
      });
    }
    return event.type === "error" ? connectionError(state, event as ConnectionErrorEvent) : state;
  }
  const index = state.messages.findIndex((m) => m.role === "assistant" && m.id === event.message_id);
  if (index >= 0) {
    const next = replaceAt(state, index, applyInOrder(state.messages[index] as AssistantMessage, event));
    return next === state ? state : reapplyDecisions(next);
  }
  if (event.type === "message.start") return start(state, event);
  if (!belongsHere(state, event.conversation_id)) return state;
  return holdOrphan(state, event);
}

/** Whether an event of `conversationId` is for the conversation on screen. */
function belongsHere(state: ChatState, conversationId: string): boolean {
  if (state.conversationId === null)
    return state.messages.some((m) => m.role === "assistant" && m.id === null);
  return state.conversationId === conversationId;
}

function start(state: ChatState, event: Extract<MessageEvent, { type: "message.start" }>): ChatState {
  const byClientId = state.messages.findIndex(
    (m) => m.role === "assistant" && m.id === null && m.request?.client_msg_id === event.client_msg_id,
  );
  // A stream nobody here asked for is only shown in its own conversation.
  if (byClientId < 0 && state.conversationId !== event.conversation_id) return state;
  const base =
    byClientId >= 0
      ? (state.messages[byClientId] as AssistantMessage)
      : emptyAssistant(event.message_id, null);
  // The stream starts at `message.start`, whatever its seq.
  let message: AssistantMessage = { ...base, id: event.message_id, nextSeq: event.seq };
  const early = state.orphans[event.message_id] ?? [];
  const { [event.message_id]: _taken, ...orphans } = state.orphans;
  message = applyInOrder(message, event);
  for (const e of early) message = applyInOrder(message, e);
  const messages =
    byClientId >= 0
      ? state.messages.map((m, i) => (i === byClientId ? message : m))
      : [...state.messages, message];
  const next: ChatState = {
    ...state,
    orphans,
    messages,
    conversationId: state.conversationId ?? event.conversation_id,
  };
  return reapplyDecisions(next);
}

function holdOrphan(state: ChatState, event: MessageEvent): ChatState {
  const held = state.orphans[event.message_id] ?? [];
  if (held.length >= ORPHAN_EVENTS_MAX) return state;
  if (held.length === 0 && Object.keys(state.orphans).length >= ORPHAN_MESSAGES_MAX) return state;
  if (held.some((e) => e.seq === event.seq)) return state;
  return { ...state, orphans: { ...state.orphans, [event.message_id]: [...held, event] } };
}

function connectionError(state: ChatState, event: ConnectionErrorEvent): ChatState {
  const notice = { error_type: event.error_type, message: event.message };
  // Which answer the error ends: the one it names (a refused resume or
  // cancel), else the last `chat.send` the server has not started, which
  // would otherwise wait forever.
  const target =
    event.message_id !== undefined
      ? state.messages.findIndex((m) => m.role === "assistant" && m.id === event.message_id)
      : event.client_msg_id !== undefined
        ? state.messages.findIndex(
            (m) =>
              m.role === "assistant" && m.id === null && m.request?.client_msg_id === event.client_msg_id,
          )
        : findLastIndex(state.messages, (m) => m.role === "assistant" && m.id === null && isActive(m));
  const message = state.messages[target];
  if (!message || !isActive(message)) return { ...state, notice };
  return replaceAt({ ...state, notice }, target, {
    ...message,
    status: "error",
    error: notice,
    cancelRequested: false,
  });
}

/** Applies `event` if it is next, holds it if it is early, drops it if it is a duplicate. */
export function applyInOrder(message: AssistantMessage, event: MessageEvent): AssistantMessage {
  if (event.seq < message.nextSeq || message.ahead[event.seq] !== undefined) return message;
  if (event.seq > message.nextSeq) return { ...message, ahead: { ...message.ahead, [event.seq]: event } };
  let next = applyOne(message, event);
  let ahead = message.ahead;
  for (let e = ahead[next.nextSeq]; e !== undefined; e = ahead[next.nextSeq]) {
    const { [next.nextSeq]: _applied, ...rest } = ahead;
    ahead = rest;
    next = applyOne(next, e);
  }
  return { ...next, ahead };
}

function applyOne(before: AssistantMessage, event: MessageEvent): AssistantMessage {
  const message: AssistantMessage = before.rebuildOnReplay
    ? { ...emptyAssistant(before.key, before.request), id: before.id, created_at: before.created_at }
    : before;
  const m: AssistantMessage = { ...message, nextSeq: event.seq + 1 };
  switch (event.type) {
    case "message.start":
      return { ...m, status: m.status === "pending" ? "streaming" : m.status };
    case "classification":
      return {
        ...m,
        status: "streaming",
        persona: event.persona,
        intent: event.intent,
        confidence: event.confidence,
        alternatives: event.alternatives ?? [],
      };
    case "retrieval": {
      const incoming = new Map(event.citations.map((c) => [c.n, c]));
      const kept = m.citations.filter((c) => !incoming.has(c.n));
      return { ...m, citations: [...kept, ...event.citations].sort((a, b) => a.n - b.n) };
    }
    case "tool.call": {
      const call = { call_id: event.call_id, name: event.name, arguments: event.arguments };
      const existing = m.toolCalls.find((c) => c.call_id === event.call_id);
      return existing
        ? { ...m, toolCalls: m.toolCalls.map((c) => (c.call_id === event.call_id ? { ...c, ...call } : c)) }
        : { ...m, toolCalls: [...m.toolCalls, { ...call, result: null }] };
    }
    case "tool.result": {
      const result = { ok: event.ok, summary: event.summary, data: event.data ?? null };
      const existing = m.toolCalls.some((c) => c.call_id === event.call_id);
      return {
        ...m,
        toolCalls: existing
          ? m.toolCalls.map((c) => (c.call_id === event.call_id ? { ...c, result } : c))
          : [...m.toolCalls, { call_id: event.call_id, name: "tool", arguments: null, result }],
      };
    }
    case "approval.required": {
      if (m.approvals.some((a) => a.approval_id === event.approval_id)) return m;
      const approval = approvalViewFromRest({
        approval_id: event.approval_id,
        action: event.action,
        arguments: event.arguments,
        summary: event.summary,
        expires_at: event.expires_at ?? null,
        status: "pending",
      });
      return { ...m, approvals: [...m.approvals, approval] };
    }
    case "approval.decided":
      return {
        ...m,
        approvals: m.approvals.map((a) =>
          a.approval_id === event.approval_id
            ? { ...a, status: laterStatus(a.status, decidedStatus(event)), decided_by: event.by ?? null }
            : a,
        ),
      };
    case "text.delta":
      return { ...m, status: "streaming", text: m.text + event.text };
    case "message.end":
      return {
        ...m,
        status: m.status === "error" ? "error" : statusOfFinish(event.finish_reason),
        finishReason: event.finish_reason,
        usage: event.usage ?? m.usage,
        timings: event.timings_ms ?? m.timings,
        cancelRequested: false,
      };
    case "error":
      return {
        ...m,
        status: "error",
        error: { error_type: event.error_type, message: event.message },
        cancelRequested: false,
      };
  }
}

function applyDecision(
  state: ChatState,
  approvalId: string,
  change: Partial<AssistantMessage["approvals"][number]>,
): ChatState {
  const seen = state.decisions[approvalId]?.status;
  const status = seen ? laterStatus(seen, change.status ?? "approved") : (change.status ?? "approved");
  const decisions = { ...state.decisions, [approvalId]: { status, by: change.decided_by ?? null } };
  return mapMessages({ ...state, decisions }, (m) =>
    m.role === "assistant" && m.approvals.some((a) => a.approval_id === approvalId)
      ? {
          ...m,
          approvals: m.approvals.map((a) =>
            a.approval_id === approvalId
              ? { ...a, ...change, approval_id: approvalId, status: laterStatus(a.status, status) }
              : a,
          ),
        }
      : m,
  );
}

/** Applies decisions seen before their approval card arrived. */
function reapplyDecisions(state: ChatState): ChatState {
  if (Object.keys(state.decisions).length === 0) return state;
  let next = state;
  for (const m of state.messages) {
    if (m.role !== "assistant") continue;
    for (const a of m.approvals) {
      const seen = state.decisions[a.approval_id];
      if (seen && a.status === "pending") {
        next = applyDecision(next, a.approval_id, { status: seen.status, decided_by: seen.by });
      }
    }
  }
  return next;
}

/**
 * What to send after (re)connecting so nothing in flight is lost: a `resume`
 * for every unfinished message the server has acknowledged (and its pending
 * cancel), and the original `chat.send` (same `client_msg_id`, which the
 * server de-duplicates) for any it has not.
 */
export function resumeCommands(state: ChatState): ClientCommand[] {
  const commands: ClientCommand[] = [];
  for (const m of state.messages) {
    if (!isActive(m)) continue;
    if (m.id !== null) {
      commands.push({ type: "resume", message_id: m.id, after_seq: m.nextSeq - 1 });
      if (m.cancelRequested) commands.push({ type: "chat.cancel", message_id: m.id });
    } else if (m.request) {
      commands.push(sendCommand(m.request));
    }
  }
  return commands;
}

export function sendCommand(request: SendRequest): ClientCommand {
  return {
    type: "chat.send",
    client_msg_id: request.client_msg_id,
    text: request.text,
    ...(request.conversation_id ? { conversation_id: request.conversation_id } : {}),
    ...(request.persona ? { persona: request.persona } : {}),
  };
}

/** The message a stop button acts on: the last one still streaming. */
export function activeAssistant(state: ChatState): AssistantMessage | null {
  const i = findLastIndex(state.messages, isActive);
  return i >= 0 ? (state.messages[i] as AssistantMessage) : null;
}

function mapMessages(state: ChatState, f: (m: ChatMessage) => ChatMessage): ChatState {
  let changed = false;
  const messages = state.messages.map((m) => {
    const next = f(m);
    if (next !== m) changed = true;
    return next;
  });
  return changed ? { ...state, messages } : state;
}

function replaceAt(state: ChatState, index: number, message: ChatMessage): ChatState {
  if (state.messages[index] === message) return state;
  return { ...state, messages: state.messages.map((m, i) => (i === index ? message : m)) };
}

function findLastIndex<T>(items: readonly T[], predicate: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (predicate(items[i] as T)) return i;
  return -1;
}
