// The chat wire protocol (WebSocket `/ws/chat`, same events as SSE on
// `POST /api/v1/chat`): JSON text frames tagged by `type`. See
// ARCHITECTURE.md, "Wire protocol".

export const PERSONAS = ["cto", "cro", "coo", "cfo"] as const;
export type Persona = (typeof PERSONAS)[number];

export type FinishReason = "stop" | "cancelled" | "error" | "length";

export interface ScoreBreakdown {
  vector_rank: number | null;
  lexical_rank: number | null;
  fused: number;
  vector_similarity?: number | null;
  bm25?: number | null;
}

export interface Citation {
  n: number;
  document_id: string;
  chunk_id: string;
  title: string;
  snippet: string;
  score: number;
  scores: ScoreBreakdown;
  uri?: string | null;
}

export interface Alternative {
  persona: string;
  intent: string;
  confidence: number;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

export interface Timings {
  classify?: number | null;
  retrieve?: number | null;
  tools?: number | null;
  first_token?: number | null;
  total?: number | null;
}

export interface ErrorPayload {
  error_type: string;
  message: string;
}

/** Fields every per-message server event carries. */
interface Sequenced {
  conversation_id: string;
  message_id: string;
  seq: number;
}

export type MessageEvent =
  | (Sequenced & { type: "message.start"; client_msg_id?: string | null })
  | (Sequenced & {
      type: "classification";
      persona: string;
      intent: string;
      confidence: number;
      alternatives?: Alternative[];
    })
  | (Sequenced & { type: "retrieval"; citations: Citation[] })
  | (Sequenced & { type: "tool.call"; call_id: string; name: string; arguments: unknown })
  | (Sequenced & {
      type: "tool.result";
      call_id: string;
      ok: boolean;
      summary: string;
      data?: unknown;
    })
  | (Sequenced & {
      type: "approval.required";
      approval_id: string;
      action: string;
      arguments: unknown;
      summary: string;
      expires_at?: string | null;
    })
  | (Sequenced & {
      type: "approval.decided";
      approval_id: string;
      decision: string;
      /** Where it ended (`executed`, `failed`, `rejected`); older servers send only `decision`. */
      status?: string;
      by?: unknown;
    })
  | (Sequenced & { type: "text.delta"; text: string })
  | (Sequenced & {
      type: "message.end";
      finish_reason: FinishReason;
      usage?: Usage | null;
      timings_ms?: Timings | null;
    })
  | (Sequenced & { type: "error"; error_type: string; message: string });

/** An approval decided outside any message (e.g. from the inbox or Slack). */
export interface LooseApprovalDecided {
  type: "approval.decided";
  approval_id: string;
  decision: string;
  status?: string;
  by?: unknown;
  conversation_id?: string | null;
}

export type ServerEvent = MessageEvent | LooseApprovalDecided | { type: "pong" } | ConnectionErrorEvent;

/** An error without `seq`; it may name the message or the send it is about. */
export interface ConnectionErrorEvent {
  type: "error";
  error_type: string;
  message: string;
  conversation_id?: string;
  message_id?: string;
  client_msg_id?: string;
}

export type ClientCommand =
  | {
      type: "chat.send";
      conversation_id?: string;
      client_msg_id: string;
      text: string;
      persona?: Persona;
    }
  | { type: "chat.cancel"; message_id: string }
  | {
      type: "approval.decide";
      approval_id: string;
      decision: "approve" | "reject";
      comment?: string;
    }
  | { type: "resume"; message_id: string; after_seq: number }
  | { type: "ping" };

/** True for events that belong to a message stream (carry `message_id` and `seq`). */
export function isMessageEvent(event: ServerEvent): event is MessageEvent {
  const e = event as Partial<Sequenced>;
  return typeof e.message_id === "string" && typeof e.seq === "number";
}

const KNOWN_TYPES = new Set([
  "message.start",
  "classification",
  "retrieval",
  "tool.call",
  "tool.result",
  "approval.required",
  "approval.decided",
  "text.delta",
  "message.end",
  "error",
  "pong",
]);

/** Parses one text frame; `null` for anything that is not a known event. */
export function parseServerEvent(raw: string): ServerEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const type = (value as { type?: unknown }).type;
  if (typeof type !== "string" || !KNOWN_TYPES.has(type)) return null;
  return value as ServerEvent;
}
