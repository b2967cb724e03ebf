// The REST client: same-origin `/api/v1/...` with the session's bearer token.
// A 401 triggers one refresh and one retry, so an access token that expired
// under a request never surfaces as an error.

import { HttpStatusError } from "./errors";
import type { SessionManager } from "./session";
import type {
  Approval,
  ApprovalStatus,
  ConversationDetail,
  ConversationSummary,
  KnowledgeDocument,
  Me,
  SearchHit,
  ToolInvocation,
  UsageRow,
} from "./types";

type Method = "GET" | "POST" | "DELETE";

export class ApiClient {
  constructor(
    private readonly session: SessionManager,
    private readonly fetchImpl: typeof fetch = (...args) => globalThis.fetch(...args),
  ) {}

  async request<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const send = async (token: string) => {
      const headers: Record<string, string> = {
        Authorization: `Bearer ${token}`,
        Accept: "application/json",
      };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      return this.fetchImpl(path, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    };
    const token = await this.session.accessToken();
    let res = await send(token);
    if (res.status === 401) res = await send(await this.session.replaceRejected(token));
    if (!res.ok) throw await HttpStatusError.from(res);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /**
   * Uploads a form with XHR (fetch has no upload progress), reporting the
   * fraction sent; retries once with a refreshed token on 401.
   */
  async upload<T>(path: string, form: FormData, onProgress: (fraction: number) => void): Promise<T> {
    const attempt = (token: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open("POST", path);
        xhr.setRequestHeader("Authorization", `Bearer ${token}`);
        xhr.setRequestHeader("Accept", "application/json");
        xhr.upload.onprogress = (e) => {
          if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
        };
        xhr.onload = () => resolve({ status: xhr.status, body: xhr.responseText });
        xhr.onerror = () => reject(new Error("the upload failed: network error"));
        xhr.onabort = () => reject(new Error("the upload was cancelled"));
        xhr.send(form);
      });
    const token = await this.session.accessToken();
    let res = await attempt(token);
    if (res.status === 401) {
      onProgress(0);
      res = await attempt(await this.session.replaceRejected(token));
    }
    if (res.status < 200 || res.status >= 300) {
      throw await HttpStatusError.from(new Response(res.body || null, { status: res.status }));
    }
    onProgress(1);
    return JSON.parse(res.body) as T;
  }

  me(): Promise<Me> {
    return this.request("GET", "/api/v1/me");
  }

  conversations(): Promise<{ conversations: ConversationSummary[] }> {
    return this.request("GET", "/api/v1/conversations");
  }

  conversation(id: string): Promise<ConversationDetail> {
    return this.request("GET", `/api/v1/conversations/${encodeURIComponent(id)}`);
  }

  approvals(status?: ApprovalStatus): Promise<{ approvals: Approval[] }> {
    const query = status ? `?status=${status}` : "";
    return this.request("GET", `/api/v1/approvals${query}`);
  }

  approval(id: string): Promise<Approval> {
    return this.request("GET", `/api/v1/approvals/${encodeURIComponent(id)}`);
  }

  decide(id: string, decision: "approve" | "reject", comment?: string): Promise<Approval> {
    return this.request("POST", `/api/v1/approvals/${encodeURIComponent(id)}/decide`, {
      decision,
      ...(comment ? { comment } : {}),
    });
  }

  documents(limit = 50, offset = 0): Promise<{ documents: KnowledgeDocument[]; total: number }> {
    return this.request("GET", `/api/v1/knowledge/documents?limit=${limit}&offset=${offset}`);
  }

  deleteDocument(id: string): Promise<void> {
    return this.request("DELETE", `/api/v1/knowledge/documents/${encodeURIComponent(id)}`);
  }

  uploadDocument(
    form: FormData,
    onProgress: (fraction: number) => void,
  ): Promise<{ status: string; document: KnowledgeDocument }> {
    return this.upload("/api/v1/knowledge/documents", form, onProgress);
  }

  search(query: string, limit = 8): Promise<{ hits: SearchHit[] }> {
    return this.request("POST", "/api/v1/knowledge/search", { query, limit });
  }

  usage(days = 30): Promise<{ days: UsageRow[] }> {
    return this.request("GET", `/api/v1/usage?days=${days}`);
  }

  invokeTool(name: string, args: Record<string, unknown> = {}): Promise<ToolInvocation> {
    return this.request("POST", `/api/v1/tools/${encodeURIComponent(name)}/invoke`, { arguments: args });
  }
}
