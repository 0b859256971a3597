// The pure parts of a restore to GitHub: the pacer keeps to GitHub's content limits and slows down on
// a secondary limit without dropping the write; provenance headers come off to the original body;
// slots keep every number; a pull request's branches follow its state and the snapshot's refs.
import { describe, expect, it } from "vitest";
import { SourceError } from "../../functions/core/errors.js";
import { WriteRateLimitError } from "../../functions/core/restore-github/errors.js";
import type { IssueLine, PullLine } from "../../functions/core/restore-github/lines.js";
import { ContentPacer, GITHUB_CONTENT_LIMITS } from "../../functions/core/restore-github/pacing.js";
import { sharedPacing } from "../../functions/core/restore-github/run.js";
import { ORG_RESTORES_AT_ONCE } from "../../functions/core/restore-org.js";
import {
  hasMarker,
  provenanceMarker,
  reactionsNote,
  stripProvenance,
  withProvenance,
} from "../../functions/core/restore-github/provenance.js";
import { pullBranchPlan } from "../../functions/core/restore-github/pull-branches.js";
import { planSlots } from "../../functions/core/restore-github/slots.js";

/** A clock the pacer's sleeps move. */
function fakeTime() {
  let now = 0;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    sleeps,
  };
}

describe("ContentPacer", () => {
  it("spaces writes to 80 a minute and stops at 500 an hour", async () => {
    const t = fakeTime();
    const pacer = new ContentPacer({ perMinute: 80, perHour: 500, sleep: t.sleep, now: t.now });
    const starts: number[] = [];
    for (let i = 0; i < 501; i++) await pacer.write(async () => starts.push(t.now()));
    expect(starts[1]! - starts[0]!).toBe(750);
    // 500 writes 750 ms apart; the 501st waits until the first is an hour old.
    expect(starts[499]).toBe(499 * 750);
    expect(starts[500]).toBe(3_600_000);
    expect(pacer.stats().writes).toBe(501);
  });

  it("waits retry-after on a secondary limit, doubles its spacing, and sends the same write again", async () => {
    const t = fakeTime();
    const pacer = new ContentPacer({ perMinute: 60, perHour: Infinity, sleep: t.sleep, now: t.now });
    let calls = 0;
    const made = await pacer.write(async () => {
      calls++;
      if (calls < 3) throw new WriteRateLimitError("secondary rate limit", 7);
      return "made";
    });
    expect(made).toBe("made");
    expect(calls).toBe(3);
    expect(t.sleeps.filter((ms) => ms === 7000)).toHaveLength(2);
    const before = t.now();
    await pacer.write(async () => undefined);
    expect(t.now() - before).toBe(4000); // 1 s spacing, doubled twice
    expect(pacer.stats()).toMatchObject({ writes: 2, slowdowns: 2 });
  });

  it("starts from a carried state: the hour's writes, the doubled spacing and a wait not yet over", async () => {
    const t = fakeTime();
    const saved: unknown[] = [];
    t.sleeps.length = 0;
    // 3 writes in the last hour (cap 3), spacing doubled to 2 s, a retry-after until t=90 s.
    const carried = { starts: [-3_000_000, -20_000, -10_000], spacingMs: 2000, notBefore: 90_000 };
    const pacer = new ContentPacer(
      { perMinute: 60, perHour: 3, sleep: t.sleep, now: t.now },
      carried,
      async (s) => void saved.push(s),
    );
    const starts: number[] = [];
    for (let i = 0; i < 2; i++) await pacer.write(async () => starts.push(t.now()));
    // The first waits for the oldest carried write to be an hour old (600 s), not just the retry-after.
    expect(starts).toEqual([600_000, 3_580_000]);
    // Each turn was saved before its write, with the hour as it then stood (at most perHour starts).
    expect(saved).toEqual([
      { starts: [-20_000, -10_000, 600_000], spacingMs: 2000 },
      { starts: [-10_000, 600_000, 3_580_000], spacingMs: 2000 },
    ]);
    // Without the cap the carried spacing and wait still hold.
    const t2 = fakeTime();
    const free = new ContentPacer(
      { perMinute: 60, perHour: Infinity, sleep: t2.sleep, now: t2.now },
      { starts: [0], spacingMs: 4000, notBefore: 30_000 },
    );
    const at: number[] = [];
    for (let i = 0; i < 2; i++) await free.write(async () => at.push(t2.now()));
    expect(at).toEqual([30_000, 34_000]);
  });

  it("passes any other failure on at once, and a limit past its retries", async () => {
    const t = fakeTime();
    const pacer = new ContentPacer({
      perMinute: Infinity,
      perHour: Infinity,
      sleep: t.sleep,
      now: t.now,
      maxRetries: 2,
    });
    await expect(pacer.write(async () => Promise.reject(new SourceError("boom")))).rejects.toThrow("boom");
    await expect(
      pacer.write(async () => Promise.reject(new WriteRateLimitError("secondary rate limit"))),
    ).rejects.toBeInstanceOf(WriteRateLimitError);
    expect(t.sleeps).toEqual([60_000, 60_000]); // no retry-after: a minute, GitHub's advice
    // writeOnce (an upload): waits and slows down, but leaves the retry to the caller.
    await expect(
      pacer.writeOnce(async () => Promise.reject(new WriteRateLimitError("secondary rate limit", 2))),
    ).rejects.toBeInstanceOf(WriteRateLimitError);
    expect(pacer.stats().slowdowns).toBe(3);
  });
});

describe("provenance headers", () => {
  const p = {
    kind: "issue",
    source: "acme/app",
    id: 12,
    author: "alice",
    at: "2026-01-01T00:00:00Z",
    url: "https://github.com/acme/app/issues/12",
  };

  it("start with the marker and come off to the original body, blank lines and all", () => {
    for (const body of ["Plain", "", "Two\n\nparagraphs\n\n", "> a quote\n\nand more", null]) {
      const written = withProvenance({ ...p, notes: ["Note one", "Note\ntwo"] }, body);
      expect(written.startsWith(provenanceMarker("issue", "acme/app", 12) + "\n")).toBe(true);
      expect(written).toContain(
        "> Originally by @alice on 2026-01-01T00:00:00Z: https://github.com/acme/app/issues/12",
      );
      expect(written).toContain("> Note two");
      expect(stripProvenance(written)).toBe(body ?? "");
    }
    expect(stripProvenance("not restored")).toBe("not restored");
    expect(withProvenance({ ...p, author: null }, "x")).toContain("Originally by a deleted user");
  });

  it("name the original's reactions as counts in the header, none when there were none", () => {
    expect(reactionsNote({ total_count: 3, "+1": 2, "-1": 0, heart: 1 })).toEqual([
      "Reactions: :+1: 2, :heart: 1",
    ]);
    expect(reactionsNote({ total_count: 0, "+1": 0 })).toEqual([]);
    expect(reactionsNote(undefined)).toEqual([]);
    const body = withProvenance(
      { kind: "issue", source: "acme/app", id: 4, author: "alice", notes: reactionsNote({ rocket: 5 }) },
      "text\n\nmore",
    );
    expect(body.split("\n").slice(0, 3)).toEqual([
      provenanceMarker("issue", "acme/app", 4),
      "> Originally by @alice",
      "> Reactions: :rocket: 5",
    ]);
    expect(stripProvenance(body)).toBe("text\n\nmore");
  });

  it("tell #1 from #12, and cut a body past GitHub's limit with a note", () => {
    const body = withProvenance(p, "x");
    expect(hasMarker(body, provenanceMarker("issue", "acme/app", 12))).toBe(true);
    expect(hasMarker(body, provenanceMarker("issue", "acme/app", 1))).toBe(false);
    const long = withProvenance(p, "y".repeat(70_000));
    expect(long.length).toBeLessThanOrEqual(65_536);
    expect(long).toMatch(/cut here, and whole in the backup/);
  });
});

const issue = (number: number, isPull = false): IssueLine => ({
  number,
  title: `#${number}`,
  state: "open",
  labels: [],
  is_pull_request: isPull,
});
const pull = (number: number, extra: Partial<PullLine> = {}): PullLine => ({
  number,
  state: "open",
  head: { ref: "feature", sha: "h".repeat(40) },
  base: { ref: "main", sha: "b".repeat(40) },
  ...extra,
});

describe("slots", () => {
  it("fill every number up to the highest, saying why a number is missing", () => {
    const slots = planSlots([issue(1), issue(2, true), issue(5)], [pull(2)], [3]);
    expect(slots.map((s) => [s.number, s.kind])).toEqual([
      [1, "issue"],
      [2, "pull"],
      [3, "placeholder"],
      [4, "placeholder"],
      [5, "issue"],
    ]);
    expect(slots[2]).toMatchObject({ why: expect.stringMatching(/#3 was a discussion/) });
    expect(slots[3]).toMatchObject({ why: expect.stringMatching(/#4 was not in the backup/) });
    expect(slots[1]).toMatchObject({ pull: { number: 2 } });
    expect(planSlots([], [], [])).toEqual([]);
  });
});

describe("a pull request's branches", () => {
  const h = "h".repeat(40);
  it("an open one with its branch where it was: the branches themselves", () => {
    expect(pullBranchPlan({ "refs/heads/feature": h, "refs/heads/main": "m".repeat(40) }, pull(7))).toEqual({
      head: { name: "feature" },
      base: { name: "main" },
    });
  });
  it("a branch moved or gone: restored/pr-N at refs/pull/N/head", () => {
    const refs = {
      "refs/heads/feature": "x".repeat(40),
      "refs/heads/main": "m".repeat(40),
      "refs/pull/7/head": h,
    };
    expect(pullBranchPlan(refs, pull(7))).toEqual({
      head: { name: "restored/pr-7", sha: h },
      base: { name: "main" },
    });
  });
  it("closed or merged: its base commit as restored/pr-N-base, the base branch as fallback", () => {
    const refs = { "refs/heads/main": "m".repeat(40), "refs/pull/7/head": h };
    expect(pullBranchPlan(refs, pull(7, { state: "closed" }))).toEqual({
      head: { name: "restored/pr-7", sha: h },
      base: { name: "restored/pr-7-base", sha: "b".repeat(40) },
      fallbackBase: "main",
    });
  });
  it("no head commit in the backup: why", () => {
    expect(pullBranchPlan({}, pull(7, { state: "closed" }))).toEqual({
      why: "its head commit is not in the backup (no refs/pull/7/head)",
    });
  });
});

describe("an organization restore's shared pace", () => {
  it("splits GitHub's content limits between the restores that run at once, never below one write", () => {
    expect(sharedPacing(1)).toEqual(GITHUB_CONTENT_LIMITS);
    expect(sharedPacing(ORG_RESTORES_AT_ONCE)).toEqual({ perMinute: 16, perHour: 100 });
    expect(sharedPacing(ORG_RESTORES_AT_ONCE).perMinute * ORG_RESTORES_AT_ONCE).toBeLessThanOrEqual(80);
    expect(sharedPacing(1000)).toEqual({ perMinute: 1, perHour: 1 });
  });
});
