// The chat WebSocket: one connection, reconnected with exponential backoff
// after any drop, with a heartbeat that notices a dead connection. On every
// open it sends what the owner says is in flight (resumes, unacknowledged
// sends), so a stream survives a reconnect.

import { SessionEndedError } from "../api/errors";
import { type ClientCommand, type ServerEvent, parseServerEvent } from "./protocol";

/** The part of the browser `WebSocket` this client uses (a fake in tests). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason?: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

const OPEN = 1;

export type ConnectionStatus = "idle" | "connecting" | "open" | "reconnecting" | "closed";

export interface StatusInfo {
  /** Failed attempts in a row. */
  attempt: number;
  /** When reconnecting: how long until the next try. */
  retryInMs?: number;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ChatSocketOptions {
  /**
   * The URL to connect to, with a fresh access token. `authFailed` asks for a
   * refreshed one; throwing `SessionEndedError` stops reconnecting.
   */
  url: (hint: { authFailed: boolean }) => Promise<string>;
  onEvent: (event: ServerEvent) => void;
  /** Commands to send on every open, in order (resumes and unacknowledged sends). */
  onOpen?: () => ClientCommand[];
  onStatus?: (status: ConnectionStatus, info: StatusInfo) => void;
  createSocket?: (url: string) => SocketLike;
  /** First retry delay and the cap; the delay doubles per failure, with jitter. */
  backoff?: { initialMs: number; maxMs: number };
  /** Ping this often while open… */
  heartbeatMs?: number;
  /** …and give up on the connection if nothing arrives this long after a ping. */
  pongTimeoutMs?: number;
  random?: () => number;
  timers?: Timers;
}

/** Close codes after which the next connect should use a refreshed token. */
const AUTH_CLOSE_CODES = new Set([1008, 4001, 4401, 4403]);

export class ChatSocket {
  private readonly opts: Required<Omit<ChatSocketOptions, "onOpen" | "onStatus">> &
    Pick<ChatSocketOptions, "onOpen" | "onStatus">;
  private socket: SocketLike | null = null;
  private current: ConnectionStatus = "idle";
  private attempt = 0;
  private authFailed = false;
  /** Connections in a row that closed before opening. */
  private unopened = 0;
  private retryTimer: unknown = null;
  private heartbeatTimer: unknown = null;
  private deadlineTimer: unknown = null;
  private generation = 0;

  constructor(options: ChatSocketOptions) {
    this.opts = {
      createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
      backoff: { initialMs: 500, maxMs: 30_000 },
      heartbeatMs: 25_000,
      pongTimeoutMs: 10_000,
      random: Math.random,
      timers: {
        setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
        clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
      },
      ...options,
    };
  }

  get status(): ConnectionStatus {
    return this.current;
  }

  /** Connects (once); later drops reconnect by themselves until `stop()`. */
  start(): void {
    if (this.current !== "idle" && this.current !== "closed") return;
    this.attempt = 0;
    void this.connect();
  }

  /** Closes for good (sign-out, leaving the page). */
  stop(): void {
    this.generation++;
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      detach(socket);
      socket.close(1000, "client closed");
    }
    this.setStatus("closed");
  }

  /** Retries now instead of waiting out the backoff (e.g. the browser came back online). */
  reconnectNow(): void {
    if (this.current !== "reconnecting") return;
    this.opts.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    void this.connect();
  }

  /** Sends when open; returns false otherwise (the owner re-sends on open via `onOpen`). */
  send(command: ClientCommand): boolean {
    const socket = this.socket;
    if (!socket || this.current !== "open" || socket.readyState !== OPEN) return false;
    socket.send(JSON.stringify(command));
    return true;
  }

  private async connect(): Promise<void> {
    const generation = ++this.generation;
    this.setStatus("connecting");
    let url: string;
    try {
      url = await this.opts.url({ authFailed: this.authFailed });
    } catch (err) {
      if (generation !== this.generation) return;
      if (err instanceof SessionEndedError || (err as Error)?.name === "SessionEndedError") {
        this.setStatus("closed");
        return;
      }
      this.scheduleRetry();
      return;
    }
    if (generation !== this.generation) return;
    this.authFailed = false;
    let socket: SocketLike;
    try {
      socket = this.opts.createSocket(url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      opened = true;
      this.unopened = 0;
      this.setStatus("open");
      this.write(socket, { type: "ping" });
      for (const command of this.opts.onOpen?.() ?? []) this.write(socket, command);
      this.armHeartbeat();
    };
    socket.onmessage = (message) => {
      if (this.socket !== socket) return;
      this.attempt = 0;
      this.opts.timers.clearTimeout(this.deadlineTimer);
      this.deadlineTimer = null;
      if (typeof message.data !== "string") return;
      const event = parseServerEvent(message.data);
      if (event) this.opts.onEvent(event);
    };
    socket.onerror = () => {
      // A close event always follows; reconnecting happens there.
    };
    socket.onclose = (close) => {
      if (this.socket !== socket) return;
      this.socket = null;
      detach(socket);
      if (!opened) this.unopened++;
      // A refused upgrade (say, a token the server no longer accepts) looks
      // like any failed connection (1006); after two in a row, refresh too.
      if (AUTH_CLOSE_CODES.has(close.code) || this.unopened >= 2) this.authFailed = true;
      this.scheduleRetry();
    };
  }

  private write(socket: SocketLike, command: ClientCommand): void {
    if (socket.readyState === OPEN) socket.send(JSON.stringify(command));
  }

  private scheduleRetry(): void {
    this.clearTimers();
    const { initialMs, maxMs } = this.opts.backoff;
    const ceiling = Math.min(maxMs, initialMs * 2 ** this.attempt);
    // "Equal jitter": at least half the ceiling, so retries never bunch at zero.
    const delay = Math.round(ceiling / 2 + (this.opts.random() * ceiling) / 2);
    this.attempt++;
    this.setStatus("reconnecting", delay);
    this.retryTimer = this.opts.timers.setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, delay);
  }

  private armHeartbeat(): void {
    this.opts.timers.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = this.opts.timers.setTimeout(() => {
      const socket = this.socket;
      if (!socket || this.current !== "open") return;
      this.write(socket, { type: "ping" });
      this.deadlineTimer = this.opts.timers.setTimeout(() => {
        if (this.socket !== socket) return;
        // Nothing came back: the connection is dead even if the OS has not noticed.
        this.socket = null;
        detach(socket);
        socket.close(4000, "heartbeat timeout");
        this.scheduleRetry();
      }, this.opts.pongTimeoutMs);
      this.armHeartbeat();
    }, this.opts.heartbeatMs);
  }

  private clearTimers(): void {
    for (const t of [this.retryTimer, this.heartbeatTimer, this.deadlineTimer]) {
      if (t !== null) this.opts.timers.clearTimeout(t);
    }
    this.retryTimer = this.heartbeatTimer = this.deadlineTimer = null;
  }

  private setStatus(status: ConnectionStatus, retryInMs?: number): void {
    this.current = status;
    const info: StatusInfo = { attempt: this.attempt };
    if (retryInMs !== undefined) info.retryInMs = retryInMs;
    this.opts.onStatus?.(status, info);
  }
}

function detach(socket: SocketLike): void {
  socket.onopen = socket.onmessage = socket.onerror = null;
  socket.onclose = null;
}

/** `ws://host/ws/chat?access_token=…` on the page's own origin. */
export function chatSocketUrl(accessToken: string, location: { protocol: string; host: string }): string {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws/chat?access_token=${encodeURIComponent(accessToken)}`;
}
