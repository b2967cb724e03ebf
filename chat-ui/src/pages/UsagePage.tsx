// Usage: tokens per day by persona or model, as stacked bars (hand-made SVG).

import { useState } from "react";
import { useApi } from "../app/context";
import { usePageTitle } from "../app/usePageTitle";
import { ErrorNote } from "../components/ErrorNote";
import { LiveDot, liveStateOf } from "../components/LiveDot";
import { useAsync } from "../components/useAsync";
import { compactNumber, personaLabel } from "../format";
import { type UsageGrid, type UsageGrouping, axisTicks, groupUsage } from "./usage";

const RANGES = [7, 30, 90] as const;

export function UsagePage() {
  usePageTitle("Usage");
  const api = useApi();
  const [days, setDays] = useState<number>(30);
  const [by, setBy] = useState<UsageGrouping>("persona");
  const usage = useAsync(() => api.usage(days), [days]);
  const grid = groupUsage(usage.data?.days ?? [], by);
  const total = grid.prompt + grid.completion;

  return (
    <div className="page">
      <header className="page__head">
        <h1>Usage</h1>
        <LiveDot state={liveStateOf(usage.loading && !usage.data, usage.error, total > 0)} />
        <div className="segmented" role="group" aria-label="Period">
          {RANGES.map((d) => (
            <button
              key={d}
              type="button"
              className="segmented__item"
              aria-pressed={days === d}
              onClick={() => setDays(d)}
            >
              {d} days
            </button>
          ))}
        </div>
        <div className="segmented" role="group" aria-label="Group by">
          {(["persona", "model"] as const).map((g) => (
            <button
              key={g}
              type="button"
              className="segmented__item"
              aria-pressed={by === g}
              onClick={() => setBy(g)}
              data-testid={`usage-by-${g}`}
            >
              By {g}
            </button>
          ))}
        </div>
      </header>
      <ErrorNote error={usage.error} prefix="Could not load usage" />
      <div className="stats">
        <Stat label="Total tokens" value={total} />
        <Stat label="Prompt" value={grid.prompt} />
        <Stat label="Completion" value={grid.completion} />
      </div>
      <section className="card" aria-labelledby="usage-chart-title">
        <h2 id="usage-chart-title">Tokens per day by {by}</h2>
        {grid.dates.length === 0 ? (
          <p className="empty">{usage.loading ? "Loading…" : "No token usage in this period."}</p>
        ) : (
          <>
            <UsageChart grid={grid} by={by} />
            <Legend grid={grid} by={by} />
            <details className="usage-table">
              <summary>Show as a table</summary>
              <UsageTable grid={grid} by={by} />
            </details>
          </>
        )}
      </section>
    </div>
  );
}

function Stat({ label, value }: { label: string; value: number }) {
  return (
    <div className="stat">
      <span className="stat__value">{compactNumber(value)}</span>
      <span className="stat__label">{label}</span>
    </div>
  );
}

function seriesName(key: string, by: UsageGrouping): string {
  return by === "persona" && key !== "unknown" ? personaLabel(key) : key;
}

/** Persona colours are fixed; models take palette colours in order. */
function seriesColor(key: string, index: number, by: UsageGrouping): string {
  if (by === "persona" && ["cto", "cro", "coo", "cfo"].includes(key)) return `var(--persona-${key})`;
  return `var(--series-${index % 6})`;
}

const W = 720;
const H = 260;
const PAD = { top: 12, right: 8, bottom: 28, left: 48 };

function UsageChart({ grid, by }: { grid: UsageGrid; by: UsageGrouping }) {
  const ticks = axisTicks(grid.maxDay);
  const top = ticks[ticks.length - 1] || 1;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / grid.dates.length;
  const barW = Math.max(2, Math.min(28, slot * 0.7));
  const y = (v: number) => PAD.top + plotH - (v / top) * plotH;
  const labelEvery = Math.ceil(grid.dates.length / 8);
  const summary = `Stacked bar chart of tokens per day by ${by} over ${grid.dates.length} days; the busiest day used ${grid.maxDay} tokens.`;

  return (
    <div className="chart-wrap" role="region" aria-label="Usage chart" tabIndex={0}>
      <svg
        className="chart"
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={summary}
        data-testid="usage-chart"
      >
        {ticks.map((t) => (
          <g key={t}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} className="chart__grid" />
            <text
              x={PAD.left - 6}
              y={y(t)}
              className="chart__label"
              textAnchor="end"
              dominantBaseline="middle"
            >
              {compactNumber(t)}
            </text>
          </g>
        ))}
        {grid.dates.map((date, i) => {
          const x = PAD.left + i * slot + (slot - barW) / 2;
          let acc = 0;
          return (
            <g key={date}>
              {grid.keys.map((key, k) => {
                const v = grid.tokens[date]?.[key] ?? 0;
                if (v === 0) return null;
                const y0 = y(acc);
                acc += v;
                return (
                  <rect
                    key={key}
                    x={x}
                    width={barW}
                    y={y(acc)}
                    height={Math.max(0.5, y0 - y(acc))}
                    fill={seriesColor(key, k, by)}
                    rx={1.5}
                  >
                    <title>{`${date} · ${seriesName(key, by)}: ${v.toLocaleString()} tokens`}</title>
                  </rect>
                );
              })}
              {i % labelEvery === 0 && (
                <text x={x + barW / 2} y={H - 8} className="chart__label" textAnchor="middle">
                  {date.slice(5)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
    </div>
  );
}

function Legend({ grid, by }: { grid: UsageGrid; by: UsageGrouping }) {
  return (
    <ul className="legend" aria-label="Series">
      {grid.keys.map((key, k) => (
        <li key={key}>
          <span
            className="legend__swatch"
            style={{ background: seriesColor(key, k, by) }}
            aria-hidden="true"
          />
          {seriesName(key, by)} <span className="muted">{compactNumber(grid.totals[key] ?? 0)}</span>
        </li>
      ))}
    </ul>
  );
}

function UsageTable({ grid, by }: { grid: UsageGrid; by: UsageGrouping }) {
  return (
    <div className="table-wrap" role="region" aria-label="Usage by day" tabIndex={0}>
      <table className="data-table">
        <thead>
          <tr>
            <th scope="col">Date</th>
            {grid.keys.map((k) => (
              <th key={k} scope="col">
                {seriesName(k, by)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {grid.dates.map((date) => (
            <tr key={date}>
              <th scope="row">{date}</th>
              {grid.keys.map((k) => (
                <td key={k}>{(grid.tokens[date]?.[k] ?? 0).toLocaleString()}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
