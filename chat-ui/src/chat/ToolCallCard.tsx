// A tool the assistant called: name, arguments and result, collapsed by default.

import { DataTable } from "../components/DataTable";
import { findRows } from "../components/tabular";
import { prettyJson } from "../format";
import type { ToolCallView } from "./model";

export function ToolCallCard({ call }: { call: ToolCallView }) {
  const state = call.result === null ? "running" : call.result.ok ? "ok" : "failed";
  const rows = call.result ? findRows(call.result.data) : null;
  return (
    <details className="tool-card" data-state={state} data-testid="tool-call-card">
      <summary>
        <span className="tool-card__state" aria-hidden="true" />
        <code className="tool-card__name">{call.name}</code>
        <span className="tool-card__summary">
          {state === "running" ? "running…" : call.result?.summary || (state === "ok" ? "done" : "failed")}
        </span>
      </summary>
      <div className="tool-card__body">
        <h4>Arguments</h4>
        <pre>{prettyJson(call.arguments)}</pre>
        {call.result && (
          <>
            <h4>Result {call.result.ok ? "" : "(failed)"}</h4>
            {rows ? (
              <DataTable rows={rows} caption={`${call.name} result`} maxRows={20} />
            ) : (
              <pre>{prettyJson(call.result.data)}</pre>
            )}
          </>
        )}
      </div>
    </details>
  );
}
