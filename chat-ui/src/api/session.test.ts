import { describe, expect, it } from "vitest";
import { ApiClient } from "./client";
import { HttpStatusError, SessionEndedError } from "./errors";
import { SessionManager, type SessionState } from "./session";
import type { Session } from "./types";

const user = {
  id: "u1",
  email: "cfo@demo.test",
  role: "approver" as const,
  display_name: "Dana",
  persona: "cfo",
};

function session(n: number, expiresIn = 300): Session {
  return {
    access_token: `access-${n}`,
    refresh_token: `refresh-${n}`,
    expires_in: expiresIn,
    refresh_expires_in: 86_400,
    token_type: "Bearer",
    user,
  };
}

function memoryStorage() {
  const map = new Map<string, string>();
  return {
    getItem: (k: string) => map.get(k) ?? null,
    setItem: (k: string, v: string) => void map.set(k, v),
    removeItem: (k: string) => void map.delete(k),
  };
}

interface Call {
  path: string;
  auth: string | null;
  body: unknown;
}

/** A fake server: login issues session 1, refresh rotates, `/api/v1/me` wants the current token. */
function fakeServer() {
  const calls: Call[] = [];
  let issued = 0;
  const spent = new Set<string>();
  let valid = "";
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  const fakeFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const path = String(input);
    const headers = (init?.headers ?? {}) as Record<string, string>;
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    calls.push({ path, auth: headers.Authorization ?? null, body });
    if (path === "/api/v1/auth/login") {
      const s = session(++issued);
      valid = s.access_token;
      return json(200, s);
    }
    if (path === "/api/v1/auth/refresh") {
      const token = (body as { refresh_token: string }).refresh_token;
      if (spent.has(token) || !token.startsWith("refresh-")) {
        return json(401, { error_type: "unauthorized", message: "invalid or expired refresh token" });
      }
      spent.add(token);
      const s = session(++issued);
      valid = s.access_token;
      return json(200, s);
    }
    if (path === "/api/v1/auth/logout") return new Response(null, { status: 204 });
    if (headers.Authorization !== `Bearer ${valid}`) {
      return json(401, { error_type: "unauthorized", message: "token expired" });
    }
    return json(200, { role: "approver", user, tenant: { id: "t" }, api_key_id: null });
  }) as typeof globalThis.fetch;
  return { fetch: fakeFetch, calls, expireAccess: () => (valid = "nothing") };
}

function setup(now = { t: 0 }) {
  const server = fakeServer();
  const storage = memoryStorage();
  const manager = new SessionManager({ fetch: server.fetch, storage, now: () => now.t });
  return { server, storage, manager, now, api: new ApiClient(manager, server.fetch) };
}

describe("SessionManager", () => {
  it("signs in and stores the session", async () => {
    const { manager, storage } = setup();
    const states: SessionState["kind"][] = [];
    manager.subscribe((s) => states.push(s.kind));
    await manager.signIn("cfo@demo.test", "pw");
    expect(states).toEqual(["signed-in"]);
    expect(await manager.accessToken()).toBe("access-1");
    expect(JSON.parse(storage.getItem("aos.session") ?? "{}").refreshToken).toBe("refresh-1");
  });

  it("reports the server's error on a failed sign-in", async () => {
    const storage = memoryStorage();
    const manager = new SessionManager({
      fetch: (async () =>
        new Response(
          JSON.stringify({ error_type: "unauthorized", message: "email or password is incorrect" }),
          {
            status: 401,
          },
        )) as typeof fetch,
      storage,
      now: () => 0,
    });
    const err = await manager.signIn("x@y.z", "bad").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpStatusError);
    expect((err as HttpStatusError).message).toBe("email or password is incorrect");
    expect(manager.current.kind).toBe("signed-out");
  });

  it("refreshes shortly before expiry and stores the rotated refresh token", async () => {
    const { manager, storage, now, server } = setup();
    await manager.signIn("cfo@demo.test", "pw");
    now.t = 200_000; // 100 s left of 300: still fine
    expect(await manager.accessToken()).toBe("access-1");
    now.t = 280_000; // 20 s left: inside the 30 s margin
    expect(await manager.accessToken()).toBe("access-2");
    expect(JSON.parse(storage.getItem("aos.session") ?? "{}").refreshToken).toBe("refresh-2");
    expect(server.calls.filter((c) => c.path === "/api/v1/auth/refresh").map((c) => c.body)).toEqual([
      { refresh_token: "refresh-1" },
    ]);
  });

  it("runs concurrent refreshes once, so a rotated token is never reused", async () => {
    const { manager, server } = setup();
    await manager.signIn("cfo@demo.test", "pw");
    const tokens = await Promise.all([
      manager.replaceRejected("access-1"),
      manager.replaceRejected("access-1"),
      manager.replaceRejected("access-1"),
    ]);
    // A later rejection of the old token does not refresh again.
    expect(await manager.replaceRejected("access-1")).toBe("access-2");
    expect(tokens).toEqual(["access-2", "access-2", "access-2"]);
    expect(server.calls.filter((c) => c.path === "/api/v1/auth/refresh")).toHaveLength(1);
  });

  it("adopts a session another tab refreshed instead of spending the old token", async () => {
    const first = setup();
    await first.manager.signIn("cfo@demo.test", "pw");
    // A second tab shares storage and the server.
    const second = new SessionManager({
      fetch: first.server.fetch,
      storage: first.storage,
      now: () => first.now.t,
    });
    expect(await second.replaceRejected("access-1")).toBe("access-2");
    // The first tab still holds access-1 in memory; its refresh finds access-2 stored.
    expect(await first.manager.replaceRejected("access-1")).toBe("access-2");
    expect(first.server.calls.filter((c) => c.path === "/api/v1/auth/refresh")).toHaveLength(1);
  });

  it("expires the session, keeping who it was, when the refresh is refused", async () => {
    const { manager, storage } = setup();
    await manager.signIn("cfo@demo.test", "pw");
    storage.setItem(
      "aos.session",
      JSON.stringify({ ...JSON.parse(storage.getItem("aos.session") ?? "{}"), refreshToken: "stolen" }),
    );
    await expect(manager.replaceRejected("access-1")).rejects.toBeInstanceOf(SessionEndedError);
    const state = manager.current;
    expect(state.kind).toBe("expired");
    expect(state.kind === "expired" && state.user.email).toBe("cfo@demo.test");
    expect(storage.getItem("aos.session")).toBeNull();
  });

  it("signs out on the server with the refresh token", async () => {
    const { manager, server } = setup();
    await manager.signIn("cfo@demo.test", "pw");
    await manager.signOut();
    expect(manager.current.kind).toBe("signed-out");
    expect(server.calls.at(-1)).toMatchObject({
      path: "/api/v1/auth/logout",
      body: { refresh_token: "refresh-1" },
    });
    await expect(manager.accessToken()).rejects.toBeInstanceOf(SessionEndedError);
  });
});

describe("ApiClient", () => {
  it("refreshes once and retries a request that got 401", async () => {
    const { manager, api, server } = setup();
    await manager.signIn("cfo@demo.test", "pw");
    server.expireAccess();
    // The server now rejects access-1; the client refreshes to access-2 and retries.
    const me = await api.me();
    expect(me.role).toBe("approver");
    expect(server.calls.map((c) => [c.path, c.auth])).toEqual([
      ["/api/v1/auth/login", null],
      ["/api/v1/me", "Bearer access-1"],
      ["/api/v1/auth/refresh", null],
      ["/api/v1/me", "Bearer access-2"],
    ]);
  });

  it("turns error bodies into HttpStatusError", async () => {
    const storage = memoryStorage();
    const manager = new SessionManager({
      fetch: (async () => new Response(JSON.stringify(session(1)), { status: 200 })) as typeof fetch,
      storage,
      now: () => 0,
    });
    await manager.signIn("a@b.c", "pw");
    const api = new ApiClient(
      manager,
      (async () =>
        new Response(JSON.stringify({ error_type: "conflict", message: "already decided" }), {
          status: 409,
        })) as typeof fetch,
    );
    const err = (await api.decide("a1", "approve").catch((e: unknown) => e)) as HttpStatusError;
    expect(err.status).toBe(409);
    expect(err.errorType).toBe("conflict");
    expect(err.message).toBe("already decided");
  });
});
