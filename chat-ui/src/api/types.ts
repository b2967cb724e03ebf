// Shapes of the REST API (`/api/v1/...`). Fields the server may omit are optional.

import type { Citation, FinishReason, Timings, Usage } from "../chat/protocol";

export const ROLES = ["viewer", "analyst", "approver", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** True when `role` is at least `least` in viewer < analyst < approver < admin. */
export function roleAtLeast(role: string | null | undefined, least: string): boolean {
  const have = ROLES.indexOf(role as Role);
  const need = ROLES.indexOf(least as Role);
  return have >= 0 && need >= 0 && have >= need;
}

export interface User {
  id: string;
  tenant_id?: string;
  email: string;
  role: Role;
  display_name?: string | null;
  persona?: string | null;
  disabled?: boolean;
  created_at?: string;
}

/** What `POST /auth/login` and `POST /auth/refresh` return. */
export interface Session {
  access_token: string;
  token_type: "Bearer";
  /** Seconds until the access token expires. */
  expires_in: number;
  refresh_token: string;
  /** Seconds until the refresh token expires. */
  refresh_expires_in?: number;
  user: User;
}

export interface Me {
  tenant: { id: string; name?: string; slug?: string };
  role: Role;
  user: User | null;
  api_key_id: string | null;
}

export interface ConversationSummary {
  id: string;
  title: string | null;
  persona: string | null;
  updated_at: string;
}

export interface HistoryToolCall {
  call_id: string;
  name: string;
  arguments: unknown;
  ok?: boolean | null;
  summary?: string | null;
  data?: unknown;
}

export interface HistoryMessage {
  id: string;
  role: "user" | "assistant";
  text: string;
  persona?: string | null;
  intent?: string | null;
  confidence?: number | null;
  citations?: Citation[] | null;
  tool_calls?: HistoryToolCall[] | null;
  approvals?: Partial<Approval & { approval_id: string }>[] | null;
  usage?: Usage | null;
  timings_ms?: Timings | null;
  finish_reason?: FinishReason | null;
  created_at?: string;
}

export interface ConversationDetail {
  id: string;
  title: string | null;
  messages: HistoryMessage[];
}

export type ApprovalStatus = "pending" | "approved" | "rejected" | "executed" | "failed" | "expired";

export interface ActorRef {
  kind: string;
  id?: string | null;
}

export interface Approval {
  id: string;
  action: string;
  arguments: unknown;
  summary: string;
  requested_by?: ActorRef | null;
  decide_role?: Role | null;
  status: ApprovalStatus;
  expires_at?: string | null;
  decided_by?: ActorRef | null;
  decided_at?: string | null;
  comment?: string | null;
  result?: unknown;
  error?: string | null;
  conversation_id?: string | null;
  created_at?: string;
}

export interface KnowledgeDocument {
  id: string;
  title: string;
  source?: string;
  uri?: string | null;
  format?: string;
  tags?: string[];
  personas?: string[];
  byte_size?: number;
  chunk_count?: number;
  created_at?: string;
  updated_at?: string;
}

export interface SearchHit {
  document_id: string;
  chunk_id: string;
  title: string;
  uri?: string | null;
  heading_path?: string[];
  snippet: string;
  score: number;
  scores: Citation["scores"];
}

export interface UsageRow {
  date: string;
  persona: string | null;
  model: string | null;
  prompt_tokens: number;
  completion_tokens: number;
}

export type ToolInvocation =
  { status: "ok"; summary: string; data: unknown } | { status: "approval_required"; approval: Approval };
