import { describe, expect, it } from "vitest";
import { parseRoute } from "./router";

describe("parseRoute", () => {
  it("maps paths to pages", () => {
    expect(parseRoute("/")).toEqual({ page: "chat", conversationId: null });
    expect(parseRoute("/chat")).toEqual({ page: "chat", conversationId: null });
    expect(parseRoute("/chat/abc-1")).toEqual({ page: "chat", conversationId: "abc-1" });
    expect(parseRoute("/approvals")).toEqual({ page: "approvals" });
    expect(parseRoute("/knowledge/")).toEqual({ page: "knowledge" });
    expect(parseRoute("/usage")).toEqual({ page: "usage" });
    expect(parseRoute("/platform")).toEqual({ page: "platform" });
    expect(parseRoute("/nope/x")).toEqual({ page: "not-found", path: "/nope/x" });
  });
});
