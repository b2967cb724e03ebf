import { describe, expect, it } from "vitest";
import { axisTicks, groupUsage } from "./usage";

const rows = [
  { date: "2030-01-01", persona: "cfo", model: "gpt-x", prompt_tokens: 100, completion_tokens: 20 },
  { date: "2030-01-01", persona: "cto", model: "gpt-x", prompt_tokens: 50, completion_tokens: 10 },
  { date: "2030-01-03", persona: "cfo", model: "local", prompt_tokens: 10, completion_tokens: 5 },
  { date: "2030-01-03", persona: null, model: null, prompt_tokens: 1, completion_tokens: 1 },
];

describe("groupUsage", () => {
  it("groups tokens per day and persona, filling missing days", () => {
    const grid = groupUsage(rows, "persona");
    expect(grid.dates).toEqual(["2030-01-01", "2030-01-02", "2030-01-03"]);
    expect(grid.keys).toEqual(["cfo", "cto", "unknown"]);
    expect(grid.tokens["2030-01-01"]).toEqual({ cfo: 120, cto: 60 });
    expect(grid.tokens["2030-01-02"]).toBeUndefined();
    expect(grid.maxDay).toBe(180);
    expect(grid.prompt).toBe(161);
    expect(grid.completion).toBe(36);
  });

  it("groups by model", () => {
    const grid = groupUsage(rows, "model");
    expect(grid.totals).toEqual({ "gpt-x": 180, local: 15, unknown: 2 });
  });

  it("handles no rows", () => {
    expect(groupUsage([], "persona")).toMatchObject({ dates: [], keys: [], maxDay: 0 });
  });
});

describe("axisTicks", () => {
  it("gives round steps that cover the maximum", () => {
    expect(axisTicks(0)).toEqual([0]);
    expect(axisTicks(180)).toEqual([0, 50, 100, 150, 200]);
    expect(axisTicks(1000)).toEqual([0, 250, 500, 750, 1000]);
    expect(axisTicks(7)).toEqual([0, 2, 4, 6, 8]);
  });
});
