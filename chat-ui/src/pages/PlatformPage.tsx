// Platform overview: connectors (status, drift, last sync), data assets and
// shadow IT, read through the platform tools. Each section shows the columns
// it knows that the data has (all of them when it knows none), and says
// plainly when there is no live data.

import type { ReactNode } from "react";
import { HttpStatusError } from "../api/errors";
import type { ToolInvocation } from "../api/types";
import { useApi } from "../app/context";
import { usePageTitle } from "../app/usePageTitle";
import { DataTable } from "../components/DataTable";
import { ErrorNote } from "../components/ErrorNote";
import { LiveDot, liveStateOf } from "../components/LiveDot";
import { findRows } from "../components/tabular";
import { useAsync } from "../components/useAsync";
import { dateTime, relativeTime } from "../format";
import { describeChange } from "./drift";

interface Section {
  tool: string;
  title: string;
  listKeys: string[];
  columns: string[];
  testId: string;
}

const SECTIONS: Section[] = [
  {
    tool: "list_connectors",
    title: "Connectors",
    listKeys: ["connectors", "items"],
    columns: ["name", "kind", "status", "last_sync_at", "status_detail", "last_health_at"],
    testId: "platform-connectors",
  },
  {
    tool: "schema_drift_report",
    title: "Schema drift",
    listKeys: ["drift", "drifts", "changes", "connectors", "entities", "items"],
    columns: [
      "connector",
      "connector_name",
      "entity",
      "change",
      "changes",
      "pending_proposals",
      "observed_at",
    ],
    testId: "platform-drift",
  },
  {
    tool: "search_assets",
    title: "Data assets",
    listKeys: ["assets", "results", "items"],
    columns: ["name", "qualified_name", "kind", "source", "sensitivity", "pii_kinds", "row_estimate"],
    testId: "platform-assets",
  },
  {
    tool: "list_shadow_it",
    title: "Shadow IT",
    listKeys: ["apps", "applications", "shadow_it", "items"],
    columns: ["name", "category", "users", "spend_usd", "sources", "risk", "first_seen", "last_seen"],
    testId: "platform-shadow-it",
  },
];

export function PlatformPage() {
  usePageTitle("Platform");
  return (
    <div className="page">
      <header className="page__head">
        <h1>Platform</h1>
      </header>
      <div className="platform-grid">
        {SECTIONS.map((s) => (
          <ToolSection key={s.tool} section={s} />
        ))}
      </div>
    </div>
  );
}

const TIME_COLUMNS = /(_at|_seen)$/;

function renderCell(column: string, value: unknown): ReactNode | undefined {
  if (column === "status" && typeof value === "string") {
    return (
      <span className="status" data-status={value}>
        <span className="status__dot" aria-hidden="true" />
        {value}
      </span>
    );
  }
  if (TIME_COLUMNS.test(column) && (typeof value === "string" || value === null)) {
    return <time title={dateTime(value)}>{relativeTime(value)}</time>;
  }
  if (column === "changes" && Array.isArray(value)) {
    return (
      <ul className="cell-list">
        {value.map((change, i) => (
          <li key={i}>{describeChange(change)}</li>
        ))}
      </ul>
    );
  }
  if (column === "spend_usd" && typeof value === "number") {
    return value.toLocaleString(undefined, { style: "currency", currency: "USD" });
  }
  return undefined;
}

function ToolSection({ section }: { section: Section }) {
  const api = useApi();
  const result = useAsync<ToolInvocation>(() => api.invokeTool(section.tool, {}), [section.tool]);
  const data = result.data?.status === "ok" ? result.data : null;
  const rows = data ? findRows(data.data, section.listKeys) : null;
  const missingTool = result.error instanceof HttpStatusError && result.error.status === 404;
  const state = liveStateOf(
    result.loading && !result.data,
    missingTool ? null : result.error,
    (rows?.length ?? 0) > 0,
  );

  return (
    <section className="card" aria-labelledby={`${section.testId}-title`} data-testid={section.testId}>
      <header className="card__head">
        <h2 id={`${section.testId}-title`}>{section.title}</h2>
        <LiveDot state={state} detail={missingTool ? `${section.tool} is not available yet` : undefined} />
        <button
          type="button"
          className="button button--small"
          onClick={result.reload}
          aria-label={`Refresh ${section.title}`}
        >
          Refresh
        </button>
      </header>
      {section.tool === "list_connectors" && rows && <StatusCounts rows={rows} />}
      {data?.summary && <p className="muted small">{data.summary}</p>}
      {result.data?.status === "approval_required" && (
        <p className="muted">Reading this needs an approval: {result.data.approval.summary}</p>
      )}
      {!missingTool && <ErrorNote error={result.error} />}
      {rows && rows.length > 0 ? (
        <DataTable
          rows={rows}
          columns={section.columns}
          onlyColumns
          caption={section.title}
          renderCell={renderCell}
          maxRows={25}
        />
      ) : (
        !result.loading && (
          <p className="empty">
            {missingTool ? "No live data: this tool is not available on the server yet." : "No live data."}
          </p>
        )
      )}
    </section>
  );
}

function StatusCounts({ rows }: { rows: Record<string, unknown>[] }) {
  const counts = new Map<string, number>();
  for (const r of rows) {
    const s = typeof r.status === "string" ? r.status : "unknown";
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  return (
    <ul className="status-counts" aria-label="Connectors by status">
      {[...counts].map(([status, n]) => (
        <li key={status} className="status" data-status={status}>
          <span className="status__dot" aria-hidden="true" />
          {n} {status}
        </li>
      ))}
    </ul>
  );
}
