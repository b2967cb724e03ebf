import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ClientCommand, ServerEvent } from "./protocol";
import { SessionEndedError } from "../api/errors";
import {
  ChatSocket,
  type ChatSocketOptions,
  type ConnectionStatus,
  type SocketLike,
  chatSocketUrl,
} from "./socket";

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: unknown[] = [];
  closedWith: number | null = null;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason?: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(code = 1000): void {
    this.closedWith = code;
    this.readyState = 3;
  }
  // Test-side controls.
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(event: object): void {
    this.onmessage?.({ data: JSON.stringify(event) });
  }
  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

interface Harness {
  client: ChatSocket;
  sockets: FakeSocket[];
  events: ServerEvent[];
  statuses: ConnectionStatus[];
  hints: boolean[];
  last(): FakeSocket;
}

function harness(
  overrides: Partial<ChatSocketOptions> = {},
  inFlight: () => ClientCommand[] = () => [],
): Harness {
  const sockets: FakeSocket[] = [];
  const events: ServerEvent[] = [];
  const statuses: ConnectionStatus[] = [];
  const hints: boolean[] = [];
  let token = 0;
  const client = new ChatSocket({
    url: async ({ authFailed }) => {
      hints.push(authFailed);
      return `ws://aos.test/ws/chat?access_token=t${++token}`;
    },
    createSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    onEvent: (e) => events.push(e),
    onStatus: (s) => statuses.push(s),
    onOpen: inFlight,
    random: () => 1,
    backoff: { initialMs: 100, maxMs: 1000 },
    heartbeatMs: 5000,
    pongTimeoutMs: 1000,
    ...overrides,
  });
  return {
    client,
    sockets,
    events,
    statuses,
    hints,
    last: () => {
      const s = sockets.at(-1);
      if (!s) throw new Error("no socket yet");
      return s;
    },
  };
}

const flush = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("ChatSocket", () => {
  it("connects with a fresh token, pings and delivers parsed events", async () => {
    const h = harness();
    h.client.start();
    await flush();
    expect(h.last().url).toBe("ws://aos.test/ws/chat?access_token=t1");
    h.last().open();
    expect(h.client.status).toBe("open");
    expect(h.last().sent).toEqual([{ type: "ping" }]);
    h.last().receive({ type: "pong" });
    h.last().onmessage?.({ data: "not json" });
    h.last().receive({ type: "something.unknown" });
    h.last().receive({ type: "text.delta", conversation_id: "c", message_id: "m", seq: 1, text: "hi" });
    expect(h.events.map((e) => e.type)).toEqual(["pong", "text.delta"]);
    expect(h.client.send({ type: "chat.cancel", message_id: "m" })).toBe(true);
    expect(h.last().sent.at(-1)).toEqual({ type: "chat.cancel", message_id: "m" });
  });

  it("refuses to send while not open", async () => {
    const h = harness();
    expect(h.client.send({ type: "ping" })).toBe(false);
    h.client.start();
    await flush();
    expect(h.client.send({ type: "ping" })).toBe(false);
  });

  it("reconnects with exponential backoff and resumes what is in flight", async () => {
    let inFlight: ClientCommand[] = [];
    const h = harness({}, () => inFlight);
    h.client.start();
    await flush();
    h.last().open();
    inFlight = [{ type: "resume", message_id: "m1", after_seq: 4 }];

    h.last().drop();
    expect(h.client.status).toBe("reconnecting");
    // random() = 1 → the full ceiling: 100, 200, 400, 800, then capped at 1000.
    await vi.advanceTimersByTimeAsync(99);
    expect(h.sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.sockets).toHaveLength(2);
    h.last().drop();
    await vi.advanceTimersByTimeAsync(199);
    expect(h.sockets).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.sockets).toHaveLength(3);
    for (const wait of [400, 800, 1000, 1000]) {
      h.last().drop();
      const before = h.sockets.length;
      await vi.advanceTimersByTimeAsync(wait - 1);
      expect(h.sockets).toHaveLength(before);
      await vi.advanceTimersByTimeAsync(1);
      expect(h.sockets).toHaveLength(before + 1);
    }

    h.last().open();
    expect(h.last().sent).toEqual([{ type: "ping" }, { type: "resume", message_id: "m1", after_seq: 4 }]);
    expect(h.last().url).toMatch(/access_token=t7$/); // every attempt asks for a current token;
  });

  it("resets the backoff once the server answers", async () => {
    const h = harness();
    h.client.start();
    await flush();
    h.last().drop();
    await vi.advanceTimersByTimeAsync(100);
    h.last().drop();
    await vi.advanceTimersByTimeAsync(200);
    h.last().open();
    h.last().receive({ type: "pong" });
    h.last().drop();
    await vi.advanceTimersByTimeAsync(100);
    expect(h.sockets).toHaveLength(4);
  });

  it("uses jitter between half and all of the ceiling", async () => {
    const h = harness({ random: () => 0 });
    h.client.start();
    await flush();
    h.last().drop();
    await vi.advanceTimersByTimeAsync(49);
    expect(h.sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.sockets).toHaveLength(2);
  });

  it("asks for a refreshed token after an auth close", async () => {
    const h = harness();
    h.client.start();
    await flush();
    h.last().open();
    h.last().drop(4401);
    await vi.advanceTimersByTimeAsync(100);
    expect(h.hints).toEqual([false, true]);
  });

  it("asks for a refreshed token after two connections that never opened", async () => {
    const h = harness();
    h.client.start();
    await flush();
    h.last().drop();
    await vi.advanceTimersByTimeAsync(100);
    h.last().drop();
    await vi.advanceTimersByTimeAsync(200);
    expect(h.hints).toEqual([false, false, true]);
  });

  it("stops retrying when the session has ended", async () => {
    const h = harness({
      url: async () => {
        throw new SessionEndedError();
      },
    });
    h.client.start();
    await flush();
    expect(h.client.status).toBe("closed");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.sockets).toHaveLength(0);
  });

  it("retries when getting a token fails for another reason", async () => {
    let calls = 0;
    const h = harness({
      url: async () => {
        calls++;
        if (calls === 1) throw new Error("network down");
        return "ws://aos.test/ws/chat?access_token=x";
      },
    });
    h.client.start();
    await flush();
    expect(h.client.status).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(100);
    expect(h.sockets).toHaveLength(1);
  });

  it("closes a silent connection after a missed heartbeat and reconnects", async () => {
    const h = harness();
    h.client.start();
    await flush();
    const first = h.last();
    first.open();
    await vi.advanceTimersByTimeAsync(5000);
    expect(first.sent.filter((c) => (c as ClientCommand).type === "ping")).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1000);
    expect(first.closedWith).toBe(4000);
    expect(h.client.status).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(100);
    expect(h.sockets).toHaveLength(2);
  });

  it("keeps a connection that answers its heartbeat", async () => {
    const h = harness();
    h.client.start();
    await flush();
    h.last().open();
    await vi.advanceTimersByTimeAsync(5000);
    h.last().receive({ type: "pong" });
    await vi.advanceTimersByTimeAsync(2000);
    expect(h.client.status).toBe("open");
    expect(h.sockets).toHaveLength(1);
  });

  it("stops for good, ignoring late frames from the old socket", async () => {
    const h = harness();
    h.client.start();
    await flush();
    const s = h.last();
    s.open();
    h.client.stop();
    expect(s.closedWith).toBe(1000);
    expect(h.client.status).toBe("closed");
    s.receive({ type: "pong" });
    s.drop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.events).toEqual([]);
    expect(h.sockets).toHaveLength(1);
  });

  it("reconnects at once when asked during a backoff", async () => {
    const h = harness({ backoff: { initialMs: 10_000, maxMs: 10_000 } });
    h.client.start();
    await flush();
    h.last().drop();
    h.client.reconnectNow();
    await flush();
    expect(h.sockets).toHaveLength(2);
    expect(h.statuses).toEqual(["connecting", "reconnecting", "connecting"]);
  });
});

describe("chatSocketUrl", () => {
  it("uses the page origin and the right scheme", () => {
    expect(chatSocketUrl("a b", { protocol: "http:", host: "localhost:8080" })).toBe(
      "ws://localhost:8080/ws/chat?access_token=a%20b",
    );
    expect(chatSocketUrl("t", { protocol: "https:", host: "aos.example" })).toBe(
      "wss://aos.example/ws/chat?access_token=t",
    );
  });
});
