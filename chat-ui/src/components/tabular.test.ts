import { describe, expect, it } from "vitest";
import { cellText, findRows, tableFrom } from "./tabular";

describe("findRows", () => {
  it("takes an array of objects as it is", () => {
    expect(findRows([{ a: 1 }, { a: 2 }])).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it("finds a list under a preferred key, then under any key", () => {
    const data = { total: 2, items: [{ x: 1 }], connectors: [{ name: "crm" }] };
    expect(findRows(data, ["connectors"])).toEqual([{ name: "crm" }]);
    expect(findRows(data)).toEqual([{ x: 1 }]);
  });

  it("wraps a list of scalars and gives up on anything else", () => {
    expect(findRows(["a", "b"])).toEqual([{ value: "a" }, { value: "b" }]);
    expect(findRows([])).toBeNull();
    expect(findRows({ count: 3 })).toBeNull();
    expect(findRows(null)).toBeNull();
    expect(findRows("text")).toBeNull();
  });
});

describe("tableFrom", () => {
  it("puts preferred columns first and keeps at most eight", () => {
    const rows = [{ a: 1, b: 2, name: "x", status: "healthy", c: 1, d: 1, e: 1, f: 1, g: 1, h: 1 }];
    const table = tableFrom(rows, ["name", "status", "missing"]);
    expect(table.columns.slice(0, 2)).toEqual(["name", "status"]);
    expect(table.columns).toHaveLength(8);
  });

  it("shows only the preferred columns when asked, all when none is there", () => {
    const rows = [{ name: "crm", status: "healthy", config: { url: "x" }, id: "1" }];
    expect(tableFrom(rows, ["name", "status", "kind"], { only: true }).columns).toEqual(["name", "status"]);
    expect(tableFrom(rows, ["kind"], { only: true }).columns).toEqual(["name", "status", "config", "id"]);
  });

  it("puts id columns last, so wide rows keep what a reader needs", () => {
    // A mapping proposal as the tool returns it: keys in alphabetical order.
    const row = {
      canonical_entity: "ticket",
      canonical_field: "team",
      confidence: 0.87,
      connector: "ops-files",
      connector_id: "c1",
      created_at: "2026-11-29",
      id: "p1",
      rationale: "renamed",
      source_entity: "tickets.csv",
      source_field: "owning_team",
    };
    const table = tableFrom([row]);
    expect(table.columns).toContain("source_field");
    expect(table.columns).toContain("source_entity");
    expect(table.columns).not.toContain("id");
    expect(table.columns).not.toContain("connector_id");
  });
});

describe("cellText", () => {
  it("formats values for a cell", () => {
    expect(cellText(null)).toBe("–");
    expect(cellText(3)).toBe("3");
    expect(cellText(["a", "b"])).toBe("a, b");
    expect(cellText({ k: 1 })).toBe('{"k":1}');
    expect(cellText({ k: "x".repeat(200) }).endsWith("…")).toBe(true);
  });
});
