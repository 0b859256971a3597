// RateBudget: what GitHub's rate-limit headers say, and whether a kind's cost fits above the floor
// for how recently it changed.
import { describe, expect, it } from "vitest";
import { floorShare, RateBudget } from "../../../functions/adapters/github/metadata-budget.js";

const NOW = Date.parse("2026-12-01T12:00:00Z");
const HOUR = 3600_000;
const ago = (ms: number) => new Date(NOW - ms).toISOString();
const headers = (remaining: number, resource?: string, limit = 5000) => ({
  "x-ratelimit-limit": String(limit),
  "x-ratelimit-remaining": String(remaining),
  "x-ratelimit-reset": String(NOW / 1000 + 1800),
  ...(resource ? { "x-ratelimit-resource": resource } : {}),
});

describe("floorShare", () => {
  it.each([
    [HOUR, 0.02],
    [24 * HOUR, 0.02],
    [25 * HOUR, 0.1],
    [7 * 24 * HOUR, 0.1],
    [8 * 24 * HOUR, 0.25],
    [Infinity, 0.25],
  ])("keeps back %d ms after a change: %d of the limit", (age, share) => {
    expect(floorShare(age)).toBe(share);
  });
});

describe("RateBudget", () => {
  it("allows anything while no answer told the budget", () => {
    expect(new RateBudget(() => NOW).allows("core", 1_000_000, undefined)).toBe(true);
  });

  it("lets a recent change spend down to 2%, an old one to 25%, an undated one like an old one", () => {
    const budget = new RateBudget(() => NOW);
    budget.note(headers(1300), "core");
    expect(budget.allows("core", 1000, ago(HOUR))).toBe(true); // 300 left >= 100
    expect(budget.allows("core", 1201, ago(HOUR))).toBe(false); // 99 left < 100
    expect(budget.allows("core", 50, ago(30 * 24 * HOUR))).toBe(true); // 1250 left >= 1250
    expect(budget.allows("core", 51, ago(30 * 24 * HOUR))).toBe(false);
    expect(budget.allows("core", 51, undefined)).toBe(false);
    expect(budget.allows("core", 500, ago(3 * 24 * HOUR))).toBe(true); // 800 left >= 500
    expect(budget.allows("core", 801, ago(3 * 24 * HOUR))).toBe(false);
  });

  it("keeps GraphQL's budget apart, and ignores other resources' answers", () => {
    const budget = new RateBudget(() => NOW);
    budget.note(headers(4000, "core"), "core");
    budget.note(headers(10, "graphql"), "core");
    budget.note(headers(0, "search", 30), "core");
    expect(budget.allows("core", 100, undefined)).toBe(true);
    expect(budget.allows("graphql", 1, ago(HOUR))).toBe(false);
  });

  it("takes the latest answer, and forgets a budget once its reset has passed", () => {
    let now = NOW;
    const budget = new RateBudget(() => now);
    budget.note(headers(100), "core");
    expect(budget.allows("core", 10, undefined)).toBe(false);
    budget.note(headers(4900), "core");
    expect(budget.allows("core", 10, undefined)).toBe(true);
    budget.note(headers(0), "core");
    now = NOW + 1801_000;
    expect(budget.allows("core", 10, undefined)).toBe(true);
  });

  it("lets through a cost no full budget could hold above its floor: it would never be read otherwise", () => {
    const budget = new RateBudget(() => NOW);
    budget.note(headers(4000), "core");
    expect(budget.allows("core", 3751, undefined)).toBe(true); // 5000 - 3751 < 1250
    expect(budget.allows("core", 3000, undefined)).toBe(false); // fits a fresh budget: wait for it
  });

  it("ignores answers without rate-limit headers", () => {
    const budget = new RateBudget(() => NOW);
    budget.note(headers(0), "core");
    budget.note({ etag: 'W/"x"' }, "core");
    expect(budget.allows("core", 1, ago(HOUR))).toBe(false);
  });
});
