// The signed-in session: tokens kept in localStorage (so a reload or a second
// tab stays signed in), refreshed before the access token expires and after a
// 401. Refresh tokens rotate and a spent one revokes the whole family, so a
// refresh is single-flight within a tab and serialised across tabs with a Web
// Lock, re-reading storage inside the lock in case another tab already did it.

import { HttpStatusError, SessionEndedError } from "./errors";
import type { Session, User } from "./types";

export interface StoredSession {
  accessToken: string;
  refreshToken: string;
  /** Epoch ms when the access token expires. */
  accessExpiresAt: number;
  /** Access token lifetime in ms, for the refresh margin. */
  accessLifetimeMs: number;
  user: User;
}

export type SessionState =
  | { kind: "signed-out" }
  | { kind: "signed-in"; session: StoredSession }
  /** The server ended the session (refresh refused): sign in again, keep the screen. */
  | { kind: "expired"; user: User };

export interface SessionDeps {
  fetch: typeof fetch;
  storage: Pick<Storage, "getItem" | "setItem" | "removeItem">;
  now: () => number;
  /** Runs `fn` holding a lock shared by all tabs; absent → no cross-tab lock. */
  withLock?: <T>(name: string, fn: () => Promise<T>) => Promise<T>;
  /** Refresh ahead of expiry on a timer (off in tests). */
  autoRefresh?: boolean;
}

const STORAGE_KEY = "aos.session";
const MAX_MARGIN_MS = 30_000;

export class SessionManager {
  private state: SessionState;
  private readonly listeners = new Set<(state: SessionState) => void>();
  private inflight: Promise<StoredSession> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly deps: SessionDeps) {
    const stored = this.readStored();
    this.state = stored ? { kind: "signed-in", session: stored } : { kind: "signed-out" };
    this.schedule();
  }

  get current(): SessionState {
    return this.state;
  }

  subscribe(listener: (state: SessionState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async signIn(email: string, password: string): Promise<User> {
    const session = await this.post<Session>("/api/v1/auth/login", { email, password });
    this.adopt(session);
    return session.user;
  }

  /** Ends the session on the server (best effort) and here. */
  async signOut(): Promise<void> {
    const refreshToken = this.state.kind === "signed-in" ? this.state.session.refreshToken : null;
    this.deps.storage.removeItem(STORAGE_KEY);
    this.set({ kind: "signed-out" });
    if (refreshToken) {
      await this.post("/api/v1/auth/logout", { refresh_token: refreshToken }).catch(() => undefined);
    }
  }

  /** A valid access token, refreshed first when it is about to expire. */
  async accessToken(): Promise<string> {
    const s = this.state;
    if (s.kind !== "signed-in") throw new SessionEndedError();
    if (!this.expiring(s.session)) return s.session.accessToken;
    return (await this.refresh(s.session.accessToken)).accessToken;
  }

  /**
   * A token to use after the server refused `rejected`: the current one if it
   * is already newer, else a refreshed one.
   */
  async replaceRejected(rejected: string): Promise<string> {
    const s = this.state;
    if (s.kind !== "signed-in") throw new SessionEndedError();
    if (s.session.accessToken !== rejected && !this.expiring(s.session)) return s.session.accessToken;
    return (await this.refresh(rejected)).accessToken;
  }

  /** Another tab changed the stored session: follow it. */
  syncFromStorage(): void {
    const stored = this.readStored();
    if (stored) {
      this.set({ kind: "signed-in", session: stored });
    } else if (this.state.kind === "signed-in") {
      this.set({ kind: "signed-out" });
    }
  }

  private refresh(staleAccessToken: string): Promise<StoredSession> {
    this.inflight ??= this.locked(() => this.refreshNow(staleAccessToken)).finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async refreshNow(staleAccessToken: string): Promise<StoredSession> {
    // Another tab may have refreshed while we waited for the lock.
    const stored = this.readStored();
    if (!stored) {
      this.expire();
      throw new SessionEndedError();
    }
    if (stored.accessToken !== staleAccessToken && !this.expiring(stored)) {
      this.set({ kind: "signed-in", session: stored });
      return stored;
    }
    let session: Session;
    try {
      session = await this.post<Session>("/api/v1/auth/refresh", { refresh_token: stored.refreshToken });
    } catch (err) {
      if (err instanceof HttpStatusError && (err.status === 401 || err.status === 403)) {
        this.expire();
        throw new SessionEndedError();
      }
      throw err;
    }
    return this.adopt(session);
  }

  private adopt(session: Session): StoredSession {
    const lifetime = Math.max(1, session.expires_in) * 1000;
    const stored: StoredSession = {
      accessToken: session.access_token,
      refreshToken: session.refresh_token,
      accessExpiresAt: this.deps.now() + lifetime,
      accessLifetimeMs: lifetime,
      user: session.user,
    };
    this.deps.storage.setItem(STORAGE_KEY, JSON.stringify(stored));
    this.set({ kind: "signed-in", session: stored });
    return stored;
  }

  private expire(): void {
    const user =
      this.state.kind === "signed-in"
        ? this.state.session.user
        : this.state.kind === "expired"
          ? this.state.user
          : null;
    this.deps.storage.removeItem(STORAGE_KEY);
    this.set(user ? { kind: "expired", user } : { kind: "signed-out" });
  }

  private expiring(session: StoredSession): boolean {
    return this.deps.now() >= session.accessExpiresAt - margin(session);
  }

  private set(state: SessionState): void {
    this.state = state;
    this.schedule();
    for (const listener of this.listeners) listener(state);
  }

  private schedule(): void {
    if (!this.deps.autoRefresh) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.state.kind !== "signed-in") return;
    const session = this.state.session;
    const wait = Math.max(1000, session.accessExpiresAt - margin(session) - this.deps.now());
    this.timer = setTimeout(() => {
      this.accessToken().catch(() => undefined);
    }, wait);
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    return this.deps.withLock ? this.deps.withLock("aos.session.refresh", fn) : fn();
  }

  private readStored(): StoredSession | null {
    try {
      const raw = this.deps.storage.getItem(STORAGE_KEY);
      if (!raw) return null;
      const s = JSON.parse(raw) as Partial<StoredSession>;
      if (typeof s.accessToken !== "string" || typeof s.refreshToken !== "string" || !s.user) return null;
      return s as StoredSession;
    } catch {
      return null;
    }
  }

  private async post<T>(path: string, body: unknown): Promise<T> {
    const res = await this.deps.fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw await HttpStatusError.from(res);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }
}

function margin(session: StoredSession): number {
  return Math.min(MAX_MARGIN_MS, session.accessLifetimeMs / 4);
}

/** The browser's Web Locks, when there are any. */
export function browserLock(): SessionDeps["withLock"] {
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  if (!locks) return undefined;
  // `request` resolves to what the callback resolves to.
  return <T>(name: string, fn: () => Promise<T>) => locks.request(name, fn) as unknown as Promise<T>;
}
