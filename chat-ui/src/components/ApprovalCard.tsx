// An approval: what will happen, and Approve / Reject for roles that may
// decide it (read-only for others). Used in chat and in the inbox.

import { useId, useState } from "react";
import { HttpStatusError, describeError } from "../api/errors";
import type { Approval } from "../api/types";
import { useApi, useCanDecide } from "../app/context";
import type { ApprovalView } from "../chat/model";
import { dateTime, humanize, prettyJson, relativeTime } from "../format";

interface Props {
  approval: ApprovalView & { requested_by?: unknown; created_at?: string | null };
  onDecided: (approval: Approval) => void;
}

const STATUS_TEXT: Record<string, string> = {
  pending: "Waiting for a decision",
  approved: "Approved",
  rejected: "Rejected",
  executed: "Approved and done",
  failed: "Approved, but it failed",
  expired: "Expired",
};

export function ApprovalCard({ approval, onDecided }: Props) {
  const api = useApi();
  const canDecide = useCanDecide(approval.decide_role);
  const [busy, setBusy] = useState<"approve" | "reject" | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [comment, setComment] = useState("");
  const commentId = useId();
  const titleId = useId();

  const expired =
    approval.status === "expired" ||
    (approval.status === "pending" &&
      approval.expires_at != null &&
      Date.parse(approval.expires_at) < Date.now());
  const status = expired ? "expired" : approval.status;
  const open = status === "pending";

  async function decide(decision: "approve" | "reject") {
    setBusy(decision);
    setError(null);
    try {
      onDecided(await api.decide(approval.approval_id, decision, comment.trim() || undefined));
    } catch (err) {
      if (err instanceof HttpStatusError && err.status === 409) {
        setError("Someone already decided this one.");
        api.approval(approval.approval_id).then(onDecided, () => undefined);
      } else if (err instanceof HttpStatusError && err.status === 403) {
        setError("Your role may not decide this approval.");
      } else {
        setError(describeError(err));
      }
    } finally {
      setBusy(null);
    }
  }

  return (
    <article
      className="approval-card"
      data-status={status}
      data-testid="approval-card"
      data-approval-id={approval.approval_id}
      aria-labelledby={titleId}
    >
      <header className="approval-card__head">
        <span className="badge badge--purple">Approval</span>
        <h3 id={titleId} className="approval-card__title">
          {approval.summary || humanize(approval.action)}
        </h3>
        <span className="approval-card__status" data-testid="approval-status" data-status={status}>
          {STATUS_TEXT[status] ?? status}
        </span>
      </header>
      <p className="muted small">
        <code>{approval.action}</code>
        {approval.expires_at && open && <> · expires {relativeTime(approval.expires_at)}</>}
        {approval.created_at && <> · asked {dateTime(approval.created_at)}</>}
        {approval.decide_role && <> · needs {approval.decide_role}</>}
      </p>
      <details className="approval-card__args">
        <summary>Details</summary>
        <pre>{prettyJson(approval.arguments)}</pre>
        {approval.error && <p className="error-note">{approval.error}</p>}
        {approval.comment && <p className="small">Comment: {approval.comment}</p>}
      </details>
      {open && canDecide && (
        <div className="approval-card__actions">
          <label htmlFor={commentId} className="visually-hidden">
            Comment (optional)
          </label>
          <input
            id={commentId}
            className="input input--small"
            placeholder="Comment (optional)"
            value={comment}
            maxLength={2000}
            onChange={(e) => setComment(e.target.value)}
            data-testid="approval-comment"
          />
          <button
            type="button"
            className="button button--primary"
            disabled={busy !== null}
            onClick={() => decide("approve")}
            data-testid="approve-button"
          >
            {busy === "approve" ? "Approving…" : "Approve"}
          </button>
          <button
            type="button"
            className="button button--danger"
            disabled={busy !== null}
            onClick={() => decide("reject")}
            data-testid="reject-button"
          >
            {busy === "reject" ? "Rejecting…" : "Reject"}
          </button>
        </div>
      )}
      {open && !canDecide && (
        <p className="muted small" data-testid="approval-readonly">
          Only an {approval.decide_role ?? "approver"} or above can decide this.
        </p>
      )}
      {error && (
        <p className="error-note" role="alert">
          {error}
        </p>
      )}
    </article>
  );
}
