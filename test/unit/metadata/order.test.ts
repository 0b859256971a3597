// The order of a kind's lines and how a chain's files of one kind add up (overlay).
import { describe, expect, it } from "vitest";
import { compareLines, lineKey, overlay, sortedUnique } from "../../../functions/core/metadata/order.js";

describe("metadata line order", () => {
  it("sorts by the kind's key, numbers numerically, and keeps the last line of a repeated key", () => {
    const lines = [
      { number: 10, title: "ten" },
      { number: 9, title: "nine" },
      { number: 10, title: "ten, edited" },
    ];
    expect(sortedUnique("issues", lines)).toEqual([
      { number: 9, title: "nine" },
      { number: 10, title: "ten, edited" },
    ]);
  });

  it("orders issue events by issue, then time, then key; strings by code point", () => {
    const a = { issue_number: 2, created_at: "2026-01-01T00:00:01Z", key: "b" };
    const b = { issue_number: 2, created_at: "2026-01-01T00:00:01Z", key: "a" };
    const c = { issue_number: 1, created_at: "2026-01-01T00:00:09Z", key: "z" };
    expect([a, b, c].sort((x, y) => compareLines("issue-events", x, y))).toEqual([c, b, a]);
    expect(sortedUnique("labels", [{ name: "b" }, { name: "B" }, { name: "a" }]).map((l) => l.name)).toEqual([
      "B",
      "a",
      "b",
    ]);
    expect(lineKey("pull-reviews", { pull_number: 3, id: 7 })).toBe("[3,7]");
  });
});

describe("overlay of a chain", () => {
  const full = {
    state: "full" as const,
    lines: [
      { number: 1, t: "a" },
      { number: 2, t: "b" },
    ] as Record<string, unknown>[],
  };
  it("starts from a full file, overlays deltas by key, keeps through unchanged", () => {
    expect(
      overlay("issues", [
        full,
        { state: "unchanged" },
        {
          state: "delta",
          lines: [
            { number: 2, t: "b2" },
            { number: 3, t: "c" },
          ],
        },
        { state: "unchanged" },
      ]),
    ).toEqual([
      { number: 1, t: "a" },
      { number: 2, t: "b2" },
      { number: 3, t: "c" },
    ]);
  });

  it("forgets at unavailable, and a full file replaces everything before it", () => {
    expect(overlay("issues", [full, { state: "unavailable" }])).toBeUndefined();
    expect(
      overlay("issues", [full, { state: "unavailable" }, { state: "delta", lines: [{ number: 5 }] }]),
    ).toEqual([{ number: 5 }]);
    expect(overlay("issues", [full, { state: "full", lines: [{ number: 9 }] }])).toEqual([{ number: 9 }]);
    expect(overlay("issues", [])).toBeUndefined();
  });
});
