// One message in the thread: the question, or the answer with its persona,
// tool calls, approvals, Markdown, sources button and timings.

import type { Approval } from "../api/types";
import { ApprovalCard } from "../components/ApprovalCard";
import { humanize, percent, personaLabel } from "../format";
import { Answer } from "./Answer";
import { type AssistantMessage, type ChatMessage, isActive } from "./model";
import { StageTimings } from "./StageTimings";
import { ToolCallCard } from "./ToolCallCard";

interface Props {
  message: ChatMessage;
  onOpenSources: (message: AssistantMessage, n: number | null) => void;
  onApprovalDecided: (approval: Approval) => void;
}

export function MessageView({ message, onOpenSources, onApprovalDecided }: Props) {
  if (message.role === "user") {
    return (
      <li className="message message--user" data-testid="user-message">
        <div className="bubble">{message.text}</div>
      </li>
    );
  }
  const m = message;
  const streaming = isActive(m);
  return (
    <li
      className="message message--assistant"
      data-testid="assistant-message"
      data-status={m.status}
      aria-busy={streaming}
    >
      <div className="message__meta">
        {m.persona && (
          <span
            className="chip chip--static"
            data-persona={m.persona}
            data-testid="message-persona"
            title={alternativesText(m)}
          >
            <span className="chip__dot" aria-hidden="true" />
            {personaLabel(m.persona)} <span className="chip__confidence">{percent(m.confidence)}</span>
          </span>
        )}
        {m.intent && <span className="muted small">{humanize(m.intent)}</span>}
        {streaming && (
          <span className="stage" data-testid="stage">
            {stageOf(m)}
          </span>
        )}
      </div>
      {m.toolCalls.length > 0 && (
        <div className="message__tools">
          {m.toolCalls.map((call) => (
            <ToolCallCard key={call.call_id} call={call} />
          ))}
        </div>
      )}
      {m.approvals.map((a) => (
        <ApprovalCard key={a.approval_id} approval={a} onDecided={onApprovalDecided} />
      ))}
      {(m.text || streaming) && (
        <Answer
          text={m.text}
          citations={m.citations}
          streaming={streaming}
          onOpenSource={(n) => onOpenSources(m, n)}
        />
      )}
      {m.error && (
        <p className="error-note" role="alert" data-testid="message-error">
          {m.error.message} <span className="muted small">({m.error.error_type})</span>
        </p>
      )}
      {m.status === "cancelled" && <p className="muted small">Stopped.</p>}
      {m.status === "length" && <p className="muted small">The answer hit its length limit.</p>}
      <div className="message__foot">
        {m.citations.length > 0 && (
          <button
            type="button"
            className="link-button"
            onClick={() => onOpenSources(m, null)}
            data-testid="open-sources"
          >
            Sources ({m.citations.length})
          </button>
        )}
        {!streaming && <StageTimings timings={m.timings} usage={m.usage} />}
      </div>
    </li>
  );
}

/** What the answer is doing now, from what has arrived so far. */
export function stageOf(m: AssistantMessage): string {
  if (m.cancelRequested) return "Stopping…";
  if (m.status === "pending" || m.id === null) return "Sending…";
  // A tool waiting on an approval is not running: it waits for a person.
  if (m.approvals.some((a) => a.status === "pending")) return "Waiting for approval…";
  const running = m.toolCalls.find((c) => c.result === null);
  if (running) return `Running ${running.name}…`;
  if (m.text) return "Writing…";
  if (m.persona === null) return "Classifying…";
  return "Searching knowledge…";
}

function alternativesText(m: AssistantMessage): string {
  const head = `${personaLabel(m.persona)} ${percent(m.confidence)}${m.intent ? `, ${humanize(m.intent)}` : ""}`;
  if (m.alternatives.length === 0) return head;
  const alts = m.alternatives.map(
    (a) => `${personaLabel(a.persona)} ${humanize(a.intent)} ${percent(a.confidence)}`,
  );
  return `${head}. Also considered: ${alts.join("; ")}`;
}
