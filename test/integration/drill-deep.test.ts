// Restore drills deep-verify against the index and record what they found there: a repository
// with metadata (labels, issues, an attachment), LFS objects and a wiki-less history drills clean
// with every check named; an archive rewritten under its own key (a flipped byte in a metadata
// file, an LFS object gone: its pointer is named too) or an index count that differs fails and says
// what differs; a layered snapshot's own archive is checked the same way. The records are in the
// index: prune keeps them, forget removes them, the sample reads them. A failed drill notifies
// once; the next clean one sends the recovery.
import { createHash, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { LocalApp } from "../../functions/app.js";
import type { AuditEntry } from "../../functions/core/audit-chain.js";
import { runDrill, type DrillResult } from "../../functions/core/drill.js";
import { attachmentPath, kindPath } from "../../functions/core/metadata/paths.js";
import type { SnapshotMetadataSource } from "../../functions/core/metadata/source.js";
import type { LfsPointer } from "../../functions/core/lfs/pointer.js";
import type { Snapshot } from "../../functions/core/model.js";
import { pruneRepo } from "../../functions/core/prune.js";
import { parseRetentionPolicy } from "../../functions/core/retention-policy.js";
import { snapshotRepo } from "../../functions/core/snapshot.js";
import { rewriteArchive, updateRecord } from "../helpers/archive-rewrite.js";
import { cli } from "../helpers/cli-run.js";
import { pushCommit, richRepo } from "../helpers/git-repos.js";
import { commitFiles, storeLocally } from "../helpers/lfs-repos.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";

const actor = "test";
let scratch: string;
let ws: TestWorkspace;
let app: LocalApp;
let meta: Snapshot;
let metaSource: string;
let layered: Snapshot;
let http: Server;
const hooks: Record<string, unknown>[] = [];

const attachment = Buffer.from("an image, as GitHub served it");
const attachmentSha = createHash("sha256").update(attachment).digest("hex");
const lfsBytes = [randomBytes(5_000), randomBytes(7_000)];
const pointers: LfsPointer[] = lfsBytes.map((b) => ({
  oid: createHash("sha256").update(b).digest("hex"),
  size: b.length,
}));

/** A metadata source as GitHub's would hand it over: labels, issues and one stored attachment. */
function metadataSource(): SnapshotMetadataSource {
  const lines = (items: object[]) => Buffer.from(items.map((i) => JSON.stringify(i) + "\n").join(""));
  const files = [
    { path: kindPath("labels"), bytes: lines([{ name: "bug" }, { name: "docs" }]) },
    {
      path: kindPath("issues"),
      bytes: lines([1, 2, 3].map((number) => ({ number, title: `issue ${number}`, body: "text" }))),
    },
    {
      path: kindPath("attachments"),
      bytes: lines([{ url: "https://example.invalid/a.png", state: "stored", sha256: attachmentSha }]),
    },
    { path: attachmentPath(attachmentSha), bytes: attachment },
  ];
  return {
    collect: () => ({
      files: (async function* () {
        for (const f of files) yield { path: f.path, open: () => Readable.from([f.bytes]) };
      })(),
      summary: Promise.resolve({
        kinds: {
          labels: { state: "full", items: 2 },
          issues: { state: "full", items: 3 },
          attachments: { state: "full", items: 1 },
        },
        requests: { total: 3, notModified: 0 },
      }),
    }),
  };
}

async function drill(repo: string): Promise<DrillResult> {
  const [result, ...rest] = await runDrill(app, { actor, repos: [repo] });
  expect(rest).toEqual([]);
  return result!;
}

/** Damages the archive (or record) of `snapshot` for one test; afterEach puts both back. */
const restores: (() => Promise<void>)[] = [];
async function damage(snapshot: Snapshot, how: () => Promise<void>): Promise<void> {
  const file = join(ws.dir, "data", "archives", snapshot.objectKey);
  const bytes = await readFile(file);
  restores.push(async () => {
    await writeFile(file, bytes);
    updateRecord(join(ws.dir, "data"), snapshot);
  });
  await how();
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-drill-deep-"));
  const source = (metaSource = await richRepo(join(scratch, "meta")));
  await storeLocally(source, pointers[0]!, lfsBytes[0]!);
  await storeLocally(source, pointers[1]!, lfsBytes[1]!);
  await commitFiles(source, "main", { "a.bin": pointers[0]!, "b.bin": pointers[1]! });
  const other = await richRepo(join(scratch, "layered"));
  http = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => {
      hooks.push(JSON.parse(body) as Record<string, unknown>);
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", () => resolve()));
  const port = (http.address() as { port: number }).port;
  ws = await workspace(
    { "acme/meta": source, "acme/layered": other },
    `notifications:\n  webhooks:\n    - url: http://127.0.0.1:${port}/hook\n`,
  );
  // No store retention on write ("within"), so that prune may delete an archive here and now.
  await writeFile(join(ws.dir, "config", "retention-policy.yaml"), "last: 1\n");
  app = await ws.open();
  const taken = await snapshotRepo(app, "acme/meta", { url: source }, { actor, metadata: metadataSource() });
  meta = taken.snapshot;
  layered = (
    await snapshotRepo(
      app,
      "acme/layered",
      { url: other },
      { actor, layers: true, metadata: metadataSource() },
    )
  ).snapshot;
  expect(meta.lfs).toMatchObject({ objects: 2, bytes: 12_000 });
  expect(meta.metadata?.items).toEqual({ labels: 2, issues: 3, attachments: 1 });
  expect(layered.kind).toBe("layered");
}, 120_000);

afterEach(async () => {
  for (const put of restores.splice(0)) await put();
});

afterAll(async () => {
  await app?.close();
  await ws?.cleanup();
  await new Promise((resolve) => http?.close(resolve));
  await rm(scratch, { recursive: true, force: true });
});

describe("deep restore drills", () => {
  it("a whole repository passes every check, and the index keeps the record the drill returned", async () => {
    const result = await drill("acme/meta");
    expect(result).toMatchObject({
      repo: "acme/meta",
      snapshotId: meta.id,
      verdict: "passed",
      withinRto: true,
    });
    expect(result.detail).toBeUndefined();
    expect(result.checks).toEqual([
      "restore",
      "refs",
      "fsck",
      "manifest",
      "lfs",
      "metadata",
      "attachments",
      "lfs-pointers",
    ]);
    const { takenAt: _, ...record } = result;
    expect((await app.drills!.lastDrills()).find((r) => r.repo === "acme/meta")).toEqual(record);
    const entries: AuditEntry[] = [];
    for await (const s of app.auditTrail.stored()) entries.push(s.value as AuditEntry);
    expect(entries.filter((e) => e.action === "drill.passed").at(-1)!.details).toMatchObject({
      checks: result.checks,
    });
  });

  it("a flipped byte in a metadata file fails the drill and names the file", async () => {
    await damage(meta, () =>
      rewriteArchive(app, join(ws.dir, "data"), meta, (entries) =>
        entries.map((e) => {
          if (!e.name.startsWith(`${kindPath("issues")}.part-`)) return e;
          const bytes = Buffer.from(e.bytes);
          bytes[bytes.indexOf("issue 2")] = "I".charCodeAt(0); // same lines, other bytes
          return { ...e, bytes };
        }),
      ),
    );
    const result = await drill("acme/meta");
    expect(result.verdict).toBe("failed");
    expect(result.detail).toMatch(/"meta\/issues\.jsonl" does not match the manifest/);
    expect((await app.drills!.lastDrills()).find((r) => r.repo === "acme/meta")).toMatchObject({
      verdict: "failed",
      detail: result.detail,
    });
  });

  it("an LFS object gone from the archive (and from its manifest's entries) fails the drill, counted and its pointer named", async () => {
    const gone = `lfs/objects/${pointers[1]!.oid}`;
    await damage(meta, () =>
      rewriteArchive(app, join(ws.dir, "data"), meta, (entries) =>
        entries
          .filter((e) => !e.name.startsWith(`${gone}.part-`))
          .map((e) => {
            if (e.name !== "manifest.json") return e;
            const manifest = JSON.parse(e.bytes.toString("utf8")) as { entries: { path: string }[] };
            manifest.entries = manifest.entries.filter((entry) => entry.path !== gone);
            return { ...e, bytes: Buffer.from(JSON.stringify(manifest)) };
          }),
      ),
    );
    const result = await drill("acme/meta");
    expect(result.verdict).toBe("failed");
    expect(result.detail).toContain(
      `the archive of ${meta.id} holds 1 LFS objects (5000 bytes); its manifest says 2 (12000 bytes), the index 2 (12000 bytes)`,
    );
    // The restore itself went through: it is the deep checks that saw it, the pointer check too.
    expect(result.detail).toContain(`b.bin (oid ${pointers[1]!.oid}, 7000 bytes): no object`);
    expect(result.checks).toEqual(["restore", "refs", "fsck", "manifest", "lfs-pointers"]);
  });

  it("an item count in the index that differs from the archive fails the drill and names the kind", async () => {
    await damage(meta, async () =>
      updateRecord(join(ws.dir, "data"), {
        ...meta,
        metadata: { ...meta.metadata!, items: { ...meta.metadata!.items, issues: 4 } },
      }),
    );
    const result = await drill("acme/meta");
    expect(result.verdict).toBe("failed");
    expect(result.detail).toContain("meta/issues.jsonl holds 3 items; the manifest says 3, the index 4");
  });

  it("a layered snapshot's own archive is checked too: clean, then with a count that differs", async () => {
    const clean = await drill("acme/layered");
    expect(clean.verdict).toBe("passed");
    expect(clean.checks).toEqual(expect.arrayContaining(["restore", "refs", "fsck", "manifest", "metadata"]));
    await damage(layered, async () =>
      updateRecord(join(ws.dir, "data"), {
        ...layered,
        metadata: { ...layered.metadata!, items: { ...layered.metadata!.items, labels: 1 } },
      }),
    );
    const result = await drill("acme/layered");
    expect(result.verdict).toBe("failed");
    expect(result.detail).toContain("meta/labels.jsonl holds 2 items; the manifest says 2, the index 1");
  });
});

describe("a failed drill notifies", () => {
  const drillCli = () => cli("drill", "--config", ws.configFile, "--repo", "acme/layered");
  const drillHooks = () => hooks.filter((h) => h["kind"] === "drill-failed");

  it("once per incident, naming the repository and what differs; the next clean drill sends the recovery", async () => {
    hooks.length = 0;
    await damage(layered, async () =>
      updateRecord(join(ws.dir, "data"), {
        ...layered,
        metadata: { ...layered.metadata!, items: { ...layered.metadata!.items, issues: 9 } },
      }),
    );
    expect((await drillCli()).code).toBe(1);
    expect(drillHooks()).toEqual([
      expect.objectContaining({
        repo: "acme/layered",
        snapshot: layered.id,
        why: expect.stringContaining("meta/issues.jsonl holds 3 items; the manifest says 3, the index 9"),
      }),
    ]);
    expect(drillHooks()[0]!["resolved"]).toBeUndefined();
    expect((await drillCli()).code).toBe(1); // the incident is open: nothing sent again
    expect(drillHooks()).toHaveLength(1);
    for (const put of restores.splice(0)) await put();
    expect((await drillCli()).code).toBe(0);
    expect(drillHooks()).toHaveLength(2);
    expect(drillHooks()[1]).toMatchObject({ repo: "acme/layered", resolved: true });
  });
});

describe("drill records in the index", () => {
  it("the sample's longest undrilled repository is read from the records", async () => {
    // acme/meta was drilled last (the tests above): of a sample of one beside the largest, the
    // other is the one whose newest record is older.
    await drill("acme/layered");
    await drill("acme/meta");
    const last = new Map((await app.drills!.lastDrills()).map((r) => [r.repo, r.at]));
    expect(last.get("acme/layered")! < last.get("acme/meta")!).toBe(true);
    const largest = (await runDrill(app, { actor, sample: 1 }))[0]!.repo;
    const picked = await runDrill(app, { actor, sample: 2, random: () => 0 });
    expect(picked.map((r) => r.repo)).toEqual([
      largest,
      largest === "acme/meta" ? "acme/layered" : "acme/meta",
    ]);
  });

  it("prune leaves drill records alone, even of a snapshot it removes", async () => {
    const before = await app.drills!.drillsSince("2000-01-01T00:00:00Z");
    const drilledIds = new Set(before.filter((r) => r.repo === "acme/meta").map((r) => r.snapshotId));
    expect(drilledIds).toEqual(new Set([meta.id]));
    await pushCommit(metaSource, "main", "more.txt", "a later commit");
    await snapshotRepo(app, "acme/meta", { url: metaSource }, { actor, metadata: metadataSource() });
    const report = await pruneRepo(app, "acme/meta", parseRetentionPolicy({ last: 1 }), {
      dryRun: false,
      actor,
      now: new Date(Date.now() + 10 * 86_400_000),
    });
    expect(report.remove.map((r) => r.snapshot.id)).toContain(meta.id);
    expect(await app.index.get("acme/meta", meta.id)).toBeUndefined();
    expect(await app.drills!.drillsSince("2000-01-01T00:00:00Z")).toEqual(before);
  });

  it("forget removes every drill record of the repository and no other's; the sample leaves it out", async () => {
    const others = (await app.drills!.drillsSince("2000-01-01T00:00:00Z")).filter(
      (r) => r.repo !== "acme/meta",
    );
    const { code, stdout } = await cli(
      "forget",
      "--config",
      ws.configFile,
      "--repo",
      "acme/meta",
      "--reason",
      "GDPR 7",
      "--confirm",
      "acme/meta",
      "--json",
    );
    expect(code).toBe(0);
    expect(JSON.parse(stdout).drills).toBeGreaterThanOrEqual(4);
    expect(await app.drills!.drillsSince("2000-01-01T00:00:00Z")).toEqual(others);
    expect((await app.drills!.lastDrills()).map((r) => r.repo)).toEqual(["acme/layered"]);
    const sampled = await runDrill(app, { actor, sample: 5 });
    expect(sampled.map((r) => r.repo)).toEqual(["acme/layered"]);
  });
});
