import { describe, expect, it } from "vitest";
import { describeChange } from "./drift";

describe("describeChange", () => {
  it("puts the drift report's changes in words", () => {
    expect(describeChange({ change: "retyped", field: "priority", from: "integer", to: "text" })).toBe(
      "retyped priority integer → text",
    );
    expect(
      describeChange({
        change: "renamed",
        from: "assigned_team",
        to: "owning_team",
        type: "text",
        value_overlap: 1,
      }),
    ).toBe("renamed assigned_team → owning_team");
    expect(describeChange({ change: "added", field: "channel", type: "text" })).toBe("added channel (text)");
    expect(describeChange({ change: "removed", field: "fax" })).toBe("removed fax");
  });

  it("falls back to the fields it has for changes it does not know", () => {
    expect(describeChange({ change: "split", field: "name", into: 2 })).toBe("split, field name, into 2");
    expect(describeChange("anything")).toBe("anything");
    expect(describeChange(null)).toBe("");
  });
});
