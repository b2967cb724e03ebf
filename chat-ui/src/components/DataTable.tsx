// A table from rows whose shape is not known in advance.

import type { ReactNode } from "react";

import { humanize } from "../format";
import { type Table, cellText, tableFrom } from "./tabular";

interface Props {
  rows: Record<string, unknown>[];
  columns?: readonly string[];
  /** Show only `columns` (those the rows have), not the other keys too. */
  onlyColumns?: boolean;
  caption?: string;
  /** Renders a cell specially (status badges, times); undefined falls back to text. */
  renderCell?: (column: string, value: unknown, row: Record<string, unknown>) => ReactNode | undefined;
  maxRows?: number;
  testId?: string;
}

export function DataTable({ rows, columns, onlyColumns, caption, renderCell, maxRows = 50, testId }: Props) {
  const table: Table = tableFrom(rows, columns ?? [], { only: onlyColumns ?? false });
  const shown = table.rows.slice(0, maxRows);
  return (
    <div
      className="table-wrap"
      data-testid={testId}
      role="region"
      aria-label={caption ?? "Table"}
      tabIndex={0}
    >
      <table className="data-table">
        {caption && <caption className="visually-hidden">{caption}</caption>}
        <thead>
          <tr>
            {table.columns.map((c) => (
              <th key={c} scope="col">
                {humanize(c)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {shown.map((row, i) => (
            <tr key={typeof row.id === "string" ? row.id : i}>
              {table.columns.map((c) => (
                <td key={c}>{renderCell?.(c, row[c], row) ?? cellText(row[c])}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {table.rows.length > shown.length && (
        <p className="muted small">
          Showing {shown.length} of {table.rows.length}.
        </p>
      )}
    </div>
  );
}
