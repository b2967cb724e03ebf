// The approvals inbox: pending first, or all recent ones.

import { useState } from "react";
import type { Approval, ApprovalStatus } from "../api/types";
import { useApi, useRole } from "../app/context";
import { usePageTitle } from "../app/usePageTitle";
import { roleAtLeast } from "../api/types";
import { ApprovalCard } from "../components/ApprovalCard";
import { ErrorNote } from "../components/ErrorNote";
import { LiveDot, liveStateOf } from "../components/LiveDot";
import { useAsync } from "../components/useAsync";
import { useChat } from "../chat/ChatProvider";
import { approvalViewFromRest } from "../chat/model";

type Filter = "pending" | "all";

export function ApprovalsPage() {
  usePageTitle("Approvals");
  const api = useApi();
  const chat = useChat();
  const role = useRole();
  const [filter, setFilter] = useState<Filter>("pending");
  const status: ApprovalStatus | undefined = filter === "pending" ? "pending" : undefined;
  const list = useAsync(() => api.approvals(status), [filter]);
  const [changed, setChanged] = useState<Record<string, Approval>>({});

  const approvals = (list.data?.approvals ?? []).map((a) => changed[a.id] ?? a);

  function decided(approval: Approval) {
    setChanged((c) => ({ ...c, [approval.id]: approval }));
    chat.approvalChanged(approval);
  }

  return (
    <div className="page">
      <header className="page__head">
        <h1>Approvals</h1>
        <LiveDot state={liveStateOf(list.loading && !list.data, list.error, approvals.length > 0)} />
        <div className="segmented" role="group" aria-label="Show">
          {(["pending", "all"] as const).map((f) => (
            <button
              key={f}
              type="button"
              className="segmented__item"
              aria-pressed={filter === f}
              onClick={() => setFilter(f)}
              data-testid={`approvals-filter-${f}`}
            >
              {f === "pending" ? "Pending" : "All"}
            </button>
          ))}
        </div>
        <button type="button" className="button" onClick={list.reload}>
          Refresh
        </button>
      </header>
      {!roleAtLeast(role, "approver") && (
        <p className="muted">You can see approvals; deciding them needs the approver role.</p>
      )}
      <ErrorNote error={list.error} prefix="Could not load approvals" />
      {!list.loading && !list.error && approvals.length === 0 && (
        <p className="empty" data-testid="approvals-empty">
          {filter === "pending" ? "Nothing is waiting for a decision." : "No approvals yet."}
        </p>
      )}
      <div className="card-list" data-testid="approvals-list">
        {approvals.map((a) => (
          <ApprovalCard
            key={a.id}
            approval={{ ...approvalViewFromRest(a), created_at: a.created_at ?? null }}
            onDecided={decided}
          />
        ))}
      </div>
    </div>
  );
}
