// Finds a table in tool data whose shape is still settling: an array of
// objects at the top or under a key (preferring the given keys).

export interface Table {
  columns: string[];
  rows: Record<string, unknown>[];
}

const MAX_COLUMNS = 8;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function asRows(value: unknown): Record<string, unknown>[] | null {
  if (!Array.isArray(value) || value.length === 0) return null;
  if (value.every(isRecord)) return value;
  if (value.every((v) => typeof v !== "object" || v === null)) return value.map((v) => ({ value: v }));
  return null;
}

/** The rows of `data`, or null when it holds no list. */
export function findRows(
  data: unknown,
  preferredKeys: readonly string[] = [],
): Record<string, unknown>[] | null {
  const direct = asRows(data);
  if (direct) return direct;
  if (!isRecord(data)) return null;
  for (const key of preferredKeys) {
    const rows = asRows(data[key]);
    if (rows) return rows;
  }
  for (const value of Object.values(data)) {
    const rows = asRows(value);
    if (rows) return rows;
  }
  return null;
}

/** Ids (`id`, `…_id`) mean little to a reader: they go last. */
function isIdColumn(column: string): boolean {
  return column === "id" || column.endsWith("_id");
}

/**
 * Columns in first-seen order, most common first when there are too many;
 * id columns after the rest, so a wide row keeps the columns a reader needs.
 * With `only`, just the preferred columns the rows have (all when none).
 */
export function tableFrom(
  rows: Record<string, unknown>[],
  preferredColumns: readonly string[] = [],
  { only = false }: { only?: boolean } = {},
): Table {
  const counts = new Map<string, number>();
  for (const row of rows) for (const key of Object.keys(row)) counts.set(key, (counts.get(key) ?? 0) + 1);
  const preferred = preferredColumns.filter((c) => counts.has(c));
  if (only && preferred.length > 0) return { columns: preferred.slice(0, MAX_COLUMNS), rows };
  const rest = [...counts.keys()]
    .filter((c) => !preferred.includes(c))
    .sort(
      (a, b) => Number(isIdColumn(a)) - Number(isIdColumn(b)) || (counts.get(b) ?? 0) - (counts.get(a) ?? 0),
    );
  return { columns: [...preferred, ...rest].slice(0, MAX_COLUMNS), rows };
}

/** A cell's text: scalars as they are, lists joined, objects as short JSON. */
export function cellText(value: unknown): string {
  if (value == null) return "–";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v !== "object" || v === null))
    return value.join(", ");
  const json = JSON.stringify(value);
  return json.length > 120 ? `${json.slice(0, 117)}…` : json;
}
