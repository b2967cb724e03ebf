// Token usage rows folded into a day-by-series grid for the chart.

import type { UsageRow } from "../api/types";

export type UsageGrouping = "persona" | "model";

export interface UsageGrid {
  /** Every day from the first to the last, gaps filled with zero. */
  dates: string[];
  /** Series names, largest total first. */
  keys: string[];
  /** tokens[date][key] */
  tokens: Record<string, Record<string, number>>;
  totals: Record<string, number>;
  /** The biggest day's total, for the y scale. */
  maxDay: number;
  prompt: number;
  completion: number;
}

const DAY_MS = 86_400_000;

function dayRange(first: string, last: string): string[] {
  const start = Date.parse(`${first}T00:00:00Z`);
  const end = Date.parse(`${last}T00:00:00Z`);
  if (Number.isNaN(start) || Number.isNaN(end) || end < start) return [first];
  const out: string[] = [];
  for (let t = start; t <= end && out.length <= 400; t += DAY_MS)
    out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

export function groupUsage(rows: UsageRow[], by: UsageGrouping): UsageGrid {
  const tokens: Record<string, Record<string, number>> = {};
  const totals: Record<string, number> = {};
  let prompt = 0;
  let completion = 0;
  for (const row of rows) {
    const date = row.date.slice(0, 10);
    const key = (by === "persona" ? row.persona : row.model) || "unknown";
    const n = (row.prompt_tokens || 0) + (row.completion_tokens || 0);
    const day = (tokens[date] ??= {});
    day[key] = (day[key] ?? 0) + n;
    totals[key] = (totals[key] ?? 0) + n;
    prompt += row.prompt_tokens || 0;
    completion += row.completion_tokens || 0;
  }
  const seen = Object.keys(tokens).sort();
  const dates = seen.length > 0 ? dayRange(seen[0] as string, seen[seen.length - 1] as string) : [];
  const keys = Object.keys(totals).sort((a, b) => (totals[b] ?? 0) - (totals[a] ?? 0) || a.localeCompare(b));
  let maxDay = 0;
  for (const date of dates) {
    const sum = Object.values(tokens[date] ?? {}).reduce((a, b) => a + b, 0);
    maxDay = Math.max(maxDay, sum);
  }
  return { dates, keys, tokens, totals, maxDay, prompt, completion };
}

/** Round numbers for the y axis: 0 and about four steps up to at least `max`. */
export function axisTicks(max: number): number[] {
  if (max <= 0) return [0];
  const rough = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * magnitude >= rough) ?? 10) * magnitude;
  const ticks: number[] = [];
  for (let v = 0; v < max + step; v += step) ticks.push(v);
  return ticks;
}
