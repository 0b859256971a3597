// readMetadata over real archive chains: whatever each snapshot's collection held (full, delta,
// unchanged, unavailable, a kind never collected), the metadata read at every point of the chain
// equals FORMAT.md's chain rule (order.ts overlay()), filtered and projected as asked, and every
// archive read, or failed read, is in the audit log.
import { Readable } from "node:stream";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IncrementalPolicy } from "../../functions/core/chain.js";
import { NotFoundError } from "../../functions/core/errors.js";
import type { MetadataKind } from "../../functions/core/metadata/kinds.js";
import { jsonlStream } from "../../functions/core/metadata/jsonl.js";
import { overlay } from "../../functions/core/metadata/order.js";
import type { KindOutcome } from "../../functions/core/metadata/outcome.js";
import { kindPath } from "../../functions/core/metadata/paths.js";
import { readMetadata } from "../../functions/core/metadata/read.js";
import type { MetadataSource, MetadataSummary } from "../../functions/core/metadata/source.js";
import type { Snapshot } from "../../functions/core/model.js";
import { snapshotRepo } from "../../functions/core/snapshot.js";
import type { LocalApp } from "../../functions/wiring.js";
import { richRepo } from "../helpers/git-repos.js";
import { manualClock, workspace, type TestWorkspace } from "../helpers/local-app.js";

type Line = Record<string, unknown>;
type Step = Partial<Record<MetadataKind, { state: KindOutcome["state"]; lines?: Line[] }>>;

const REPO = "acme/app";
const KINDS = ["issues", "labels", "issue-comments", "milestones"] as const;
const policy: IncrementalPolicy = { maxChain: 10, fullEveryMs: 20 * 3600 * 1000 };
const clock = manualClock("2026-11-27T00:00:00.000Z");
const unavailable = { state: "unavailable" as const };

// Each snapshot's collection; a kind a step does not name is unchanged (absent from the first: never
// collected). `milestones` is never collected at all.
const STEPS: Step[] = [
  {
    // A full file of issues is in creation order, not always key order (a transferred issue).
    issues: {
      state: "full",
      lines: [
        { number: 3, t: "c" },
        { number: 1, t: "a" },
        { number: 2, t: "b" },
      ],
    },
    labels: { state: "full", lines: [{ name: "bug" }, { name: "docs" }] },
    "issue-comments": {
      state: "full",
      lines: [
        { id: 10, issue_number: 1, body: "one" },
        { id: 11, issue_number: 2, body: "two" },
      ],
    },
  },
  {
    issues: {
      state: "delta",
      lines: [
        { number: 2, t: "b, edited" },
        { number: 4, t: "d" },
      ],
    },
    "issue-comments": { state: "delta", lines: [{ id: 12, issue_number: 2, body: "three" }] },
  },
  {
    labels: unavailable,
    "issue-comments": { state: "delta", lines: [{ id: 11, issue_number: 2, body: "two, edited" }] },
  },
  {
    issues: { state: "full", lines: [{ number: 5, t: "e" }] },
    labels: { state: "full", lines: [{ name: "new" }] },
    "issue-comments": unavailable,
  },
  { "issue-comments": { state: "delta", lines: [{ id: 13, issue_number: 2, body: "four" }] } },
  // Deferred for the rate budget: no file; what the chain had stands.
  { issues: { state: "deferred" }, "issue-comments": { state: "deferred" } },
];

/** A MetadataSource that answers each collection with the next step of STEPS. */
function scripted(step: Step, first: boolean): MetadataSource {
  const kinds = Object.fromEntries(
    KINDS.filter((k) => k !== "milestones" && (step[k] || !first)).map((kind) => {
      const s = step[kind] ?? { state: "unchanged" as const };
      const outcome: KindOutcome =
        s.state === "unavailable"
          ? { state: "unavailable", status: 403, reason: "the GitHub App lacks the permission to read it" }
          : s.state === "unchanged"
            ? { state: "unchanged" }
            : s.state === "deferred"
              ? { state: "deferred", reason: "rate budget" }
              : { state: s.state, items: s.lines!.length };
      return [kind, outcome];
    }),
  );
  const files = KINDS.flatMap((kind) =>
    step[kind]?.lines
      ? [{ path: kindPath(kind), open: (): Readable => jsonlStream(step[kind]!.lines!) }]
      : [],
  );
  const summary: MetadataSummary = {
    // The cast: a summary names every kind; this scripted one only those the test follows.
    kinds: kinds as MetadataSummary["kinds"],
    assets: [],
    requests: { total: 0, notModified: 0 },
    checkpoint: { v: 1, repoId: 1, kinds: {}, assets: {} },
  };
  return {
    collect: () => ({
      files: (async function* () {
        yield* files;
      })(),
      summary: Promise.resolve(summary),
    }),
    changedSince: async () => true,
  };
}

let ws: TestWorkspace;
let app: LocalApp;
let scratch: string;
const snapshots: Snapshot[] = [];

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-metadata-read-"));
  const source = await richRepo(scratch);
  ws = await workspace({ [REPO]: source });
  app = await ws.open(clock);
  for (const [i, step] of STEPS.entries()) {
    clock.advance(60 * 60_000);
    const metadata = scripted(step, i === 0);
    const outcome = await snapshotRepo(
      app,
      REPO,
      { url: source },
      { actor: "test", incremental: policy, metadata },
    );
    snapshots.push(outcome.snapshot);
  }
}, 120_000);

afterAll(async () => {
  await app?.close();
  await ws?.cleanup();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** FORMAT.md's rule for `kind` after the first `n` steps. */
function expected(kind: MetadataKind, n: number): Line[] | undefined {
  const chain = STEPS.slice(0, n).flatMap((step, i) => {
    const s = step[kind] ?? (i === 0 ? undefined : { state: "unchanged" as const });
    return s ? [s] : [];
  });
  return overlay(kind, chain);
}

describe("readMetadata: a chain replayed", () => {
  it("builds one chain: a full snapshot and incrementals", () => {
    expect(snapshots.map((s) => s.kind)).toEqual([
      "full",
      "incremental",
      "incremental",
      "incremental",
      "incremental",
      "incremental",
    ]);
  });

  it("equals the chain rule at every snapshot, for every kind", async () => {
    for (const [i, snapshot] of snapshots.entries()) {
      const read = await readMetadata(app, snapshot, { kinds: KINDS }, { actor: "test", purpose: "test" });
      expect(read.chain.map((s) => s.id)).toEqual(snapshots.slice(0, i + 1).map((s) => s.id));
      for (const kind of KINDS) {
        const want = expected(kind, i + 1);
        expect(read.lines[kind], `${kind} at ${i}`).toEqual(want);
        const last = STEPS.slice(0, i + 1)
          .reverse()
          .find((s) => s[kind] && s[kind]!.state !== "unchanged")?.[kind];
        expect(read.kinds[kind].state, `${kind} at ${i}`).toBe(
          kind === "milestones" ? "not-collected" : last?.state === "unavailable" ? "unavailable" : "present",
        );
      }
    }
    const labels = (
      await readMetadata(app, snapshots[2]!, { kinds: ["labels"] }, { actor: "t", purpose: "t" })
    ).kinds.labels;
    expect(labels).toEqual({
      state: "unavailable",
      status: 403,
      reason: "the GitHub App lacks the permission to read it",
    });
  });

  it("keeps only the lines asked for, projected, still in key order", async () => {
    const read = await readMetadata(
      app,
      snapshots[2]!,
      {
        kinds: ["issue-comments", "issues"],
        keep: (kind, line) => (kind === "issues" ? line.number !== 1 : line.issue_number === 2),
        project: (_kind, line) => String(line.body ?? line.t),
      },
      { actor: "test", purpose: "test" },
    );
    expect(read.lines["issue-comments"]).toEqual(["two, edited", "three"]);
    expect(read.lines.issues).toEqual(["b, edited", "c", "d"]);
  });

  it("audits every archive read; a failed read is audited and rejects", async () => {
    const log = join(app.dataDir, "audit.jsonl");
    const from = (await readFile(log, "utf8")).split("\n").length - 1;
    await readMetadata(
      app,
      snapshots[1]!,
      { kinds: ["issues"] },
      { actor: "cli:someone", purpose: "show issues" },
    );
    // Lost on disk, not deleted through the store (which refuses while the archive is retained).
    await rm(join(app.dataDir, "archives", ...snapshots[0]!.objectKey.split("/")));
    await expect(
      readMetadata(
        app,
        snapshots[1]!,
        { kinds: ["issues"] },
        { actor: "cli:someone", purpose: "show issues" },
      ),
    ).rejects.toBeInstanceOf(NotFoundError);
    const entries = (await readFile(log, "utf8"))
      .split("\n")
      .slice(from)
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Line);
    expect(entries.map((e) => [e.action, e.snapshotId, e.outcome, e.actor])).toEqual([
      ["snapshot.read", snapshots[0]!.id, "success", "cli:someone"],
      ["snapshot.read", snapshots[1]!.id, "success", "cli:someone"],
      ["snapshot.read", snapshots[0]!.id, "failure", "cli:someone"],
    ]);
    expect(entries[1]!.details).toMatchObject({
      purpose: "show issues",
      for: snapshots[1]!.id,
      kinds: ["issues"],
    });
    expect((entries[2]!.details as Line).error).toEqual(expect.any(String));
  });
});
