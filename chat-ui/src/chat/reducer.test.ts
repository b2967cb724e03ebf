import { describe, expect, it } from "vitest";
import type { AssistantMessage, ChatState } from "./model";
import { initialChatState } from "./model";
import type { MessageEvent, ServerEvent } from "./protocol";
import { type ChatAction, activeAssistant, chatReducer, resumeCommands } from "./reducer";

const CONV = "c-1";
const MSG = "m-1";

type Body = MessageEvent extends infer E
  ? E extends MessageEvent
    ? Omit<E, "conversation_id" | "message_id" | "seq">
    : never
  : never;

function ev(seq: number, body: Body, message_id = MSG, conversation_id = CONV): MessageEvent {
  return { ...body, seq, message_id, conversation_id } as MessageEvent;
}

/** A complete answer: start, classification, retrieval, two deltas, end. */
function answer(message_id = MSG, client_msg_id = "k-1"): MessageEvent[] {
  return [
    ev(0, { type: "message.start", client_msg_id }, message_id),
    ev(
      1,
      { type: "classification", persona: "cfo", intent: "agent_run", confidence: 0.91, alternatives: [] },
      message_id,
    ),
    ev(
      2,
      {
        type: "retrieval",
        citations: [
          {
            n: 1,
            document_id: "d1",
            chunk_id: "ch1",
            title: "Cloud budget policy",
            snippet: "Budgets are reviewed monthly",
            score: 0.03,
            scores: { vector_rank: 1, lexical_rank: 2, fused: 0.03 },
          },
        ],
      },
      message_id,
    ),
    ev(3, { type: "text.delta", text: "Spend is " }, message_id),
    ev(4, { type: "text.delta", text: "on budget [1]." }, message_id),
    ev(
      5,
      {
        type: "message.end",
        finish_reason: "stop",
        usage: { prompt_tokens: 120, completion_tokens: 12 },
        timings_ms: { classify: 3, retrieve: 20, tools: 0, first_token: 80, total: 150 },
      },
      message_id,
    ),
  ];
}

function run(state: ChatState, ...actions: ChatAction[]): ChatState {
  return actions.reduce(chatReducer, state);
}

const events = (...list: ServerEvent[]): ChatAction[] => list.map((event) => ({ type: "event", event }));

function sent(text = "How is cloud spend?", clientMsgId = "k-1"): ChatState {
  return run(initialChatState, { type: "send", clientMsgId, text, persona: null });
}

function assistant(state: ChatState, index = -1): AssistantMessage {
  const m = state.messages.at(index);
  if (!m || m.role !== "assistant") throw new Error("no assistant message there");
  return m;
}

describe("chatReducer", () => {
  it("adds the question and a pending answer on send", () => {
    const state = sent();
    expect(state.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(assistant(state).status).toBe("pending");
    expect(resumeCommands(state)).toEqual([
      { type: "chat.send", client_msg_id: "k-1", text: "How is cloud spend?" },
    ]);
  });

  it("folds an in-order stream into a finished answer", () => {
    const state = run(sent(), ...events(...answer()));
    const m = assistant(state);
    expect(state.conversationId).toBe(CONV);
    expect(m.id).toBe(MSG);
    expect(m.status).toBe("done");
    expect(m.text).toBe("Spend is on budget [1].");
    expect(m.persona).toBe("cfo");
    expect(m.confidence).toBeCloseTo(0.91);
    expect(m.citations.map((c) => c.title)).toEqual(["Cloud budget policy"]);
    expect(m.usage).toEqual({ prompt_tokens: 120, completion_tokens: 12 });
    expect(m.timings?.total).toBe(150);
    expect(resumeCommands(state)).toEqual([]);
    expect(activeAssistant(state)).toBeNull();
  });

  it("orders out-of-order events by seq", () => {
    const [start, cls, ret, d1, d2, end] = answer() as [MessageEvent, ...MessageEvent[]];
    const state = run(sent(), ...events(start, d2!, end!, cls!, d1!, ret!));
    const m = assistant(state);
    expect(m.text).toBe("Spend is on budget [1].");
    expect(m.status).toBe("done");
    expect(m.ahead).toEqual({});
  });

  it("holds early events without showing them until the gap fills", () => {
    const [start, , , , d2] = answer() as MessageEvent[];
    const state = run(sent(), ...events(start!, d2!));
    const m = assistant(state);
    expect(m.text).toBe("");
    expect(Object.keys(m.ahead)).toEqual(["4"]);
    expect(m.nextSeq).toBe(1);
  });

  it("drops duplicates, including a whole replay after resume", () => {
    const all = answer();
    const firstHalf = all.slice(0, 4);
    let state = run(sent(), ...events(...firstHalf));
    expect(assistant(state).text).toBe("Spend is ");
    expect(resumeCommands(state)).toEqual([{ type: "resume", message_id: MSG, after_seq: 3 }]);
    // The server replays from the resume point, but a proxy also re-delivers older frames.
    state = run(state, ...events(all[2]!, all[3]!, ...all.slice(3), all[4]!, all[5]!));
    const m = assistant(state);
    expect(m.text).toBe("Spend is on budget [1].");
    expect(m.citations).toHaveLength(1);
    expect(m.status).toBe("done");
  });

  it("returns the same state object for a duplicate", () => {
    const state = run(sent(), ...events(...answer().slice(0, 3)));
    expect(chatReducer(state, { type: "event", event: answer()[1]! })).toBe(state);
  });

  it("buffers events that arrive before their message.start", () => {
    const all = answer();
    const state = run(sent(), ...events(all[3]!, all[1]!, all[0]!, all[2]!));
    const m = assistant(state);
    expect(m.id).toBe(MSG);
    expect(m.text).toBe("Spend is ");
    expect(state.orphans).toEqual({});
  });

  it("ignores streams of other conversations", () => {
    const state = run(sent(), ...events(...answer()));
    const other = answer("m-9", "k-9").map((e) => ({ ...e, conversation_id: "c-other" }));
    expect(run(state, ...events(...other))).toBe(state);
  });

  it("marks cancel requests and finishes as cancelled", () => {
    let state = run(sent(), ...events(...answer().slice(0, 4)));
    const key = assistant(state).key;
    state = run(state, { type: "cancel", key });
    expect(assistant(state).cancelRequested).toBe(true);
    expect(resumeCommands(state)).toEqual([
      { type: "resume", message_id: MSG, after_seq: 3 },
      { type: "chat.cancel", message_id: MSG },
    ]);
    state = run(state, ...events(ev(4, { type: "message.end", finish_reason: "cancelled" })));
    const m = assistant(state);
    expect(m.status).toBe("cancelled");
    expect(m.cancelRequested).toBe(false);
    expect(m.text).toBe("Spend is ");
    expect(activeAssistant(state)).toBeNull();
  });

  it("ignores a cancel for a finished answer", () => {
    const state = run(sent(), ...events(...answer()));
    expect(chatReducer(state, { type: "cancel", key: assistant(state).key })).toBe(state);
  });

  it("ends a message on a stream error and keeps what arrived", () => {
    let state = run(sent(), ...events(...answer().slice(0, 4)));
    state = run(
      state,
      ...events(ev(4, { type: "error", error_type: "llm_unavailable", message: "the model timed out" })),
    );
    let m = assistant(state);
    expect(m.status).toBe("error");
    expect(m.error).toEqual({ error_type: "llm_unavailable", message: "the model timed out" });
    expect(m.text).toBe("Spend is ");
    expect(resumeCommands(state)).toEqual([]);
    // A closing message.end after the error keeps the error status.
    state = run(state, ...events(ev(5, { type: "message.end", finish_reason: "error" })));
    m = assistant(state);
    expect(m.status).toBe("error");
    expect(m.finishReason).toBe("error");
  });

  it("shows connection errors and fails a send the server refused before starting it", () => {
    const state = run(sent(), ...events({ type: "error", error_type: "rate_limited", message: "slow down" }));
    expect(state.notice).toEqual({ error_type: "rate_limited", message: "slow down" });
    expect(assistant(state).status).toBe("error");
    expect(resumeCommands(state)).toEqual([]);
    expect(run(state, { type: "dismiss-notice" }).notice).toBeNull();
  });

  it("ends the answer a connection-level error names", () => {
    let state = run(sent(), ...events(...answer().slice(0, 3)));
    state = run(state, { type: "send", clientMsgId: "k-2", text: "next", persona: null });
    state = run(
      state,
      ...events({ type: "error", error_type: "not_found", message: "nothing to resume", message_id: MSG }),
    );
    expect(assistant(state, 1).status).toBe("error");
    // The unrelated pending send is left alone.
    expect(assistant(state).status).toBe("pending");
    state = run(
      state,
      ...events({ type: "error", error_type: "validation", message: "too long", client_msg_id: "k-2" }),
    );
    expect(assistant(state).status).toBe("error");
    expect(resumeCommands(state)).toEqual([]);
  });

  it("tracks tool calls and their results", () => {
    const state = run(
      sent(),
      ...events(
        answer()[0]!,
        ev(1, { type: "tool.call", call_id: "t1", name: "list_connectors", arguments: {} }),
        ev(2, {
          type: "tool.result",
          call_id: "t1",
          ok: true,
          summary: "3 connectors",
          data: [{ name: "crm" }],
        }),
      ),
    );
    expect(assistant(state).toolCalls).toEqual([
      {
        call_id: "t1",
        name: "list_connectors",
        arguments: {},
        result: { ok: true, summary: "3 connectors", data: [{ name: "crm" }] },
      },
    ]);
  });

  it("shows approvals and their decisions, in the stream and outside it", () => {
    let state = run(
      sent(),
      ...events(
        answer()[0]!,
        ev(1, {
          type: "approval.required",
          approval_id: "ap-1",
          action: "approve_mapping",
          arguments: { proposal_id: "p1" },
          summary: "Map crm.accounts.arr to account.arr",
          expires_at: "2030-01-01T00:00:00Z",
        }),
        ev(2, {
          type: "approval.required",
          approval_id: "ap-2",
          action: "trigger_sync",
          arguments: {},
          summary: "Sync the CRM",
        }),
        ev(3, {
          type: "approval.decided",
          approval_id: "ap-1",
          decision: "approve",
          by: { kind: "user", id: "u1" },
        }),
        ev(4, { type: "message.end", finish_reason: "stop" }),
      ),
    );
    let approvals = assistant(state).approvals;
    expect(approvals.map((a) => [a.approval_id, a.status])).toEqual([
      ["ap-1", "approved"],
      ["ap-2", "pending"],
    ]);
    // Decided elsewhere (inbox, Slack): no message_id, no seq.
    state = run(
      state,
      ...events({ type: "approval.decided", approval_id: "ap-2", decision: "reject", by: null }),
    );
    approvals = assistant(state).approvals;
    expect(approvals[1]?.status).toBe("rejected");
    // The REST answer to a decision carries the final status.
    state = run(state, {
      type: "approval",
      approval: { id: "ap-1", action: "approve_mapping", arguments: {}, summary: "Map", status: "executed" },
    });
    expect(assistant(state).approvals[0]?.status).toBe("executed");
  });

  it("takes the status an approval.decided event reports, and never moves an approval back", () => {
    const required = ev(1, {
      type: "approval.required",
      approval_id: "ap-1",
      action: "approve_mapping",
      arguments: {},
      summary: "s",
    });
    // The server says where the approval ended: executed, not just approved.
    let state = run(
      sent(),
      ...events(
        answer()[0]!,
        required,
        ev(2, { type: "approval.decided", approval_id: "ap-1", decision: "approve", status: "executed" }),
      ),
    );
    expect(assistant(state).approvals[0]?.status).toBe("executed");

    // The REST answer (executed) lands before a late event that only knows "approve".
    state = run(sent(), ...events(answer()[0]!, required));
    state = run(state, {
      type: "approval",
      approval: { id: "ap-1", action: "approve_mapping", arguments: {}, summary: "s", status: "executed" },
    });
    state = run(
      state,
      ...events(ev(2, { type: "approval.decided", approval_id: "ap-1", decision: "approve" }), {
        type: "approval.decided",
        approval_id: "ap-1",
        decision: "approve",
        by: null,
      }),
    );
    expect(assistant(state).approvals[0]?.status).toBe("executed");
  });

  it("applies a decision that arrived before its approval card", () => {
    let state = run(sent(), ...events({ type: "approval.decided", approval_id: "ap-1", decision: "reject" }));
    state = run(
      state,
      ...events(
        answer()[0]!,
        ev(1, { type: "approval.required", approval_id: "ap-1", action: "a", arguments: {}, summary: "s" }),
      ),
    );
    expect(assistant(state).approvals[0]?.status).toBe("rejected");
  });

  it("resends an unacknowledged send and keeps the conversation id", () => {
    let state = run(sent(), ...events(...answer()));
    state = run(state, { type: "send", clientMsgId: "k-2", text: "And next month?", persona: "cfo" });
    expect(resumeCommands(state)).toEqual([
      {
        type: "chat.send",
        client_msg_id: "k-2",
        text: "And next month?",
        conversation_id: CONV,
        persona: "cfo",
      },
    ]);
  });

  it("loads history and rebuilds an unfinished answer from the replay", () => {
    let state = run(initialChatState, {
      type: "history",
      conversation: {
        id: CONV,
        title: "Spend",
        messages: [
          { id: "u-1", role: "user", text: "How is cloud spend?" },
          { id: MSG, role: "assistant", text: "Spend is", persona: "cfo", finish_reason: null },
        ],
      },
    });
    expect(assistant(state).status).toBe("streaming");
    expect(resumeCommands(state)).toEqual([{ type: "resume", message_id: MSG, after_seq: 0 }]);
    state = run(state, ...events(...answer().slice(1)));
    const m = assistant(state);
    expect(m.text).toBe("Spend is on budget [1].");
    expect(m.status).toBe("done");
  });

  it("loads finished history as final", () => {
    const state = run(initialChatState, {
      type: "history",
      conversation: {
        id: CONV,
        title: null,
        messages: [
          {
            id: MSG,
            role: "assistant",
            text: "Done.",
            finish_reason: "stop",
            tool_calls: [
              { call_id: "t1", name: "search_assets", arguments: {}, ok: true, summary: "2 assets" },
            ],
          },
        ],
      },
    });
    const m = assistant(state);
    expect(m.status).toBe("done");
    expect(m.toolCalls[0]?.result?.summary).toBe("2 assets");
    expect(resumeCommands(state)).toEqual([]);
  });

  it("starts over on a new conversation", () => {
    const state = run(sent(), ...events(...answer()), { type: "new-conversation" });
    expect(state).toEqual(initialChatState);
  });
});
