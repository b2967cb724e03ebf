import { describe, expect, it } from "vitest";
import { stageOf } from "./MessageView";
import { type ApprovalView, emptyAssistant } from "./model";

const streaming = { ...emptyAssistant("k", null), id: "m1", status: "streaming" as const, persona: "cfo" };

const approval: ApprovalView = {
  approval_id: "a1",
  action: "approve_mapping",
  arguments: {},
  summary: "approve mapping",
  expires_at: null,
  status: "pending",
  decided_by: null,
  decide_role: "approver",
  comment: null,
  error: null,
};

describe("stageOf", () => {
  it("names the running tool", () => {
    const m = { ...streaming, toolCalls: [{ call_id: "c", name: "run_agent", arguments: {}, result: null }] };
    expect(stageOf(m)).toBe("Running run_agent…");
  });

  it("says it waits for approval while the tool behind it waits too", () => {
    const m = {
      ...streaming,
      toolCalls: [{ call_id: "c", name: "approve_mapping", arguments: {}, result: null }],
      approvals: [approval],
    };
    expect(stageOf(m)).toBe("Waiting for approval…");
    expect(stageOf({ ...m, approvals: [{ ...approval, status: "executed" }] })).toBe(
      "Running approve_mapping…",
    );
  });
});
