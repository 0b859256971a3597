// The history bench's replay of a real repository (bench/history-real.ts): which pushes its commit
// dates give, and each ref's state at a push.
import { describe, expect, it } from "vitest";
import { pushTimes, stateAt } from "../../bench/history-real.js";

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MINUTE = 60_000;
const start = Date.parse("2026-01-05T00:00:00.000Z");
const at = (day: number, hour: number, minute = 0) => start + day * DAY + hour * HOUR + minute * MINUTE;

describe("the replay of a real history", () => {
  // Newest first, as `git rev-list --first-parent` lists them.
  const timelines = new Map([
    [
      "refs/heads/main",
      [
        { oid: "c5", at: at(1, 9, 30) },
        { oid: "c4", at: at(1, 9, 10) },
        { oid: "c3", at: at(0, 15, 5) },
        { oid: "c2", at: at(0, 11, 0) },
        { oid: "c1", at: start - 30 * DAY },
      ],
    ],
    ["refs/heads/topic", [{ oid: "t1", at: at(0, 14, 0) }]],
    ["refs/tags/v1", [{ oid: "tag1", at: at(1, 9, 10) }]],
    ["refs/tags/v9", [{ oid: "tag9", at: at(9, 0) }]],
  ]);

  it("pushes once per hour with commits, a minute after its last, inside the window", () => {
    expect(pushTimes(timelines, { start, days: 3, maxPerDay: 4 })).toEqual([
      at(0, 11, 1),
      at(0, 14, 1),
      at(0, 15, 6),
      at(1, 9, 31),
    ]);
  });

  it("keeps a day's last hours when it has more than the cap", () => {
    expect(pushTimes(timelines, { start, days: 3, maxPerDay: 2 })).toEqual([
      at(0, 14, 1),
      at(0, 15, 6),
      at(1, 9, 31),
    ]);
  });

  it("sets each ref to its newest state dated by then; one that has not appeared is absent", () => {
    expect(stateAt(timelines, start)).toEqual({ "refs/heads/main": "c1" });
    expect(stateAt(timelines, at(0, 14, 1))).toEqual({ "refs/heads/main": "c2", "refs/heads/topic": "t1" });
    expect(stateAt(timelines, at(1, 9, 31))).toEqual({
      "refs/heads/main": "c5",
      "refs/heads/topic": "t1",
      "refs/tags/v1": "tag1",
    });
  });
});
