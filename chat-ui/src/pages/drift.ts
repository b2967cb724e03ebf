// One schema change from the drift report, in words:
// {change: "renamed", from: "assigned_team", to: "owning_team"} → "renamed assigned_team → owning_team".

function text(value: unknown): string {
  return typeof value === "string" || typeof value === "number" ? String(value) : "";
}

export function describeChange(change: unknown): string {
  if (typeof change !== "object" || change === null) return text(change);
  const c = change as Record<string, unknown>;
  const kind = text(c.change);
  const field = text(c.field);
  const type = text(c.type);
  switch (kind) {
    case "renamed":
      return `renamed ${text(c.from)} → ${text(c.to)}`;
    case "retyped":
      return `retyped ${field} ${text(c.from)} → ${text(c.to)}`;
    case "added":
      return `added ${field}${type ? ` (${type})` : ""}`;
    case "removed":
      return `removed ${field}`;
    default: {
      const rest = Object.entries(c)
        .filter(([k, v]) => k !== "change" && (typeof v === "string" || typeof v === "number"))
        .map(([k, v]) => `${k} ${String(v)}`);
      return [kind, ...rest].filter(Boolean).join(", ");
    }
  }
}
