// What the chat screen shows: messages folded from server events or loaded
// from a conversation's history.

import type { Approval, ApprovalStatus, ConversationDetail, HistoryMessage } from "../api/types";
import type {
  Alternative,
  Citation,
  ErrorPayload,
  FinishReason,
  MessageEvent,
  Persona,
  Timings,
  Usage,
} from "./protocol";

export type MessageStatus = "pending" | "streaming" | "done" | "cancelled" | "error" | "length";

export interface ToolCallView {
  call_id: string;
  name: string;
  arguments: unknown;
  result: { ok: boolean; summary: string; data: unknown } | null;
}

export interface ApprovalView {
  approval_id: string;
  action: string;
  arguments: unknown;
  summary: string;
  expires_at: string | null;
  status: ApprovalStatus;
  decided_by: unknown;
  decide_role: string | null;
  comment: string | null;
  error: string | null;
}

export interface UserMessage {
  role: "user";
  key: string;
  id: string | null;
  text: string;
  created_at: string | null;
}

/** What was asked, kept so an unacknowledged `chat.send` can be sent again. */
export interface SendRequest {
  client_msg_id: string;
  text: string;
  persona: Persona | null;
  conversation_id: string | null;
}

export interface AssistantMessage {
  role: "assistant";
  key: string;
  /** Server `message_id`; null until `message.start` arrives. */
  id: string | null;
  request: SendRequest | null;
  status: MessageStatus;
  text: string;
  persona: string | null;
  intent: string | null;
  confidence: number | null;
  alternatives: Alternative[];
  citations: Citation[];
  toolCalls: ToolCallView[];
  approvals: ApprovalView[];
  usage: Usage | null;
  timings: Timings | null;
  finishReason: FinishReason | null;
  error: ErrorPayload | null;
  /** The next `seq` to apply; earlier ones are duplicates. */
  nextSeq: number;
  /** Events that arrived ahead of `nextSeq`, by seq. */
  ahead: Record<number, MessageEvent>;
  cancelRequested: boolean;
  /** Loaded unfinished from history: the replay rebuilds it from scratch. */
  rebuildOnReplay: boolean;
  created_at: string | null;
}

export type ChatMessage = UserMessage | AssistantMessage;

export interface ChatState {
  conversationId: string | null;
  messages: ChatMessage[];
  /** Events for message ids not yet known (their `message.start` is late). */
  orphans: Record<string, MessageEvent[]>;
  /** Approval decisions seen, by approval id, so late cards show them too. */
  decisions: Record<string, { status: ApprovalStatus; by: unknown }>;
  /** A connection-level error to show. */
  notice: ErrorPayload | null;
}

export const initialChatState: ChatState = {
  conversationId: null,
  messages: [],
  orphans: {},
  decisions: {},
  notice: null,
};

export type ActiveAssistant = AssistantMessage & { status: "pending" | "streaming" };

/** An answer still coming in. */
export function isActive(message: ChatMessage): message is ActiveAssistant {
  return message.role === "assistant" && (message.status === "pending" || message.status === "streaming");
}

export function emptyAssistant(key: string, request: SendRequest | null): AssistantMessage {
  return {
    role: "assistant",
    key,
    id: null,
    request,
    status: "pending",
    text: "",
    persona: null,
    intent: null,
    confidence: null,
    alternatives: [],
    citations: [],
    toolCalls: [],
    approvals: [],
    usage: null,
    timings: null,
    finishReason: null,
    error: null,
    nextSeq: 0,
    ahead: {},
    cancelRequested: false,
    rebuildOnReplay: false,
    created_at: null,
  };
}

export function statusOfFinish(reason: FinishReason): MessageStatus {
  switch (reason) {
    case "stop":
      return "done";
    case "cancelled":
      return "cancelled";
    case "length":
      return "length";
    default:
      return "error";
  }
}

const KNOWN_STATUSES: ApprovalStatus[] = ["pending", "approved", "rejected", "executed", "failed", "expired"];

export function decisionStatus(decision: string): ApprovalStatus {
  if (decision === "approve" || decision === "approved") return "approved";
  if (decision === "reject" || decision === "rejected") return "rejected";
  return KNOWN_STATUSES.includes(decision as ApprovalStatus) ? (decision as ApprovalStatus) : "approved";
}

/** The status an `approval.decided` event reports: its `status` when known, else from its decision. */
export function decidedStatus(event: { decision: string; status?: string }): ApprovalStatus {
  return event.status && KNOWN_STATUSES.includes(event.status as ApprovalStatus)
    ? (event.status as ApprovalStatus)
    : decisionStatus(event.decision);
}

const STAGE: Record<ApprovalStatus, number> = {
  pending: 0,
  approved: 1,
  rejected: 2,
  executed: 2,
  failed: 2,
  expired: 2,
};

/**
 * An approval only moves forward (pending → approved → executed | failed):
 * news that arrives late (an `approved` event after the REST answer said
 * `executed`) does not move it back.
 */
export function laterStatus(current: ApprovalStatus, next: ApprovalStatus): ApprovalStatus {
  return STAGE[next] >= STAGE[current] ? next : current;
}

export function approvalViewFromRest(a: Partial<Approval & { approval_id: string }>): ApprovalView {
  return {
    approval_id: a.approval_id ?? a.id ?? "",
    action: a.action ?? "",
    arguments: a.arguments ?? {},
    summary: a.summary ?? "",
    expires_at: a.expires_at ?? null,
    status: a.status ?? "pending",
    decided_by: a.decided_by ?? null,
    decide_role: a.decide_role ?? null,
    comment: a.comment ?? null,
    error: a.error ?? null,
  };
}

function assistantFromHistory(m: HistoryMessage): AssistantMessage {
  const finished = m.finish_reason != null;
  return {
    ...emptyAssistant(m.id, null),
    id: m.id,
    status: finished ? statusOfFinish(m.finish_reason as FinishReason) : "streaming",
    text: m.text ?? "",
    persona: m.persona ?? null,
    intent: m.intent ?? null,
    confidence: m.confidence ?? null,
    citations: m.citations ?? [],
    toolCalls: (m.tool_calls ?? []).map((c) => ({
      call_id: c.call_id,
      name: c.name,
      arguments: c.arguments,
      result:
        c.ok == null && c.summary == null
          ? null
          : { ok: c.ok ?? false, summary: c.summary ?? "", data: c.data ?? null },
    })),
    approvals: (m.approvals ?? []).map(approvalViewFromRest),
    usage: m.usage ?? null,
    timings: m.timings_ms ?? null,
    finishReason: m.finish_reason ?? null,
    // History stands for `message.start` (seq 0); an unfinished message is
    // resumed after it and rebuilt from the replay.
    nextSeq: 1,
    rebuildOnReplay: !finished,
    created_at: m.created_at ?? null,
  };
}

/** A conversation loaded over REST as chat state. */
export function stateFromHistory(conversation: ConversationDetail): ChatState {
  return {
    ...initialChatState,
    conversationId: conversation.id,
    messages: conversation.messages.map((m) =>
      m.role === "user"
        ? { role: "user", key: m.id, id: m.id, text: m.text, created_at: m.created_at ?? null }
        : assistantFromHistory(m),
    ),
  };
}
