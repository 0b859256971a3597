// Damage a stored archive every way the issue names and check that verify records a failure that
// names the damage, restore refuses with the same, and nothing partial is left behind.
import { randomBytes } from "node:crypto";
import { readdir, readFile, rm, writeFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SEGMENT_SIZE, STREAM_HEADER_SIZE } from "../../functions/core/archive/streaming-aead.js";
import { DeadlineError } from "../../functions/core/errors.js";
import type { Snapshot } from "../../functions/core/model.js";
import type { BlobStore } from "../../functions/core/ports.js";
import { restoreRepo } from "../../functions/core/restore.js";
import { snapshotRepo } from "../../functions/core/snapshot.js";
import { verifySnapshot } from "../../functions/core/verify.js";
import type { LocalApp as App } from "../../functions/wiring.js";
import { pushCommit, richRepo } from "../helpers/git-repos.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";

const actor = "test";
let ws: TestWorkspace;
let app: App;
let scratch: string;
let snapshot: Snapshot;
let other: Snapshot;
let original: Buffer;
let file: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-tamper-"));
  const source = await richRepo(scratch);
  // Incompressible content so the archive spans several 1 MiB segments.
  await pushCommit(source, "main", "noise.b64", randomBytes(3 * 1024 * 1024).toString("base64"));
  ws = await workspace({ "acme/app": source, "acme/other": source });
  app = await ws.open();
  snapshot = (await snapshotRepo(app, "acme/app", { url: source }, { actor })).snapshot;
  other = (await snapshotRepo(app, "acme/other", { url: source }, { actor })).snapshot;
  file = join(ws.dir, "data", "archives", snapshot.objectKey);
  original = await readFile(file);
  expect(original.length).toBeGreaterThan(3 * SEGMENT_SIZE);
});

afterAll(async () => {
  await app?.close();
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

beforeEach(async () => writeFile(file, original));

/** Offset of segment `i` in the archive file: clear-text header, stream header, then 1 MiB segments. */
function segmentOffset(bytes: Buffer, i: number): number {
  const headerLength = 14 + bytes.readUInt32BE(10);
  return headerLength + (i === 0 ? STREAM_HEADER_SIZE : i * SEGMENT_SIZE);
}

async function expectDetected(damaged: Buffer, message: RegExp): Promise<void> {
  await writeFile(file, damaged);
  const outcome = await verifySnapshot(app, "acme/app", snapshot.id, { level: "quick", actor });
  expect(outcome.verification.verdict).toBe("failed");
  expect(outcome.verification.detail).toMatch(message);
  expect((await app.index.get("acme/app", snapshot.id))!.verification!.verdict).toBe("failed");
  const target = join(scratch, `restore-${Math.random().toString(16).slice(2)}.git`);
  await expect(
    restoreRepo(
      app,
      { repo: "acme/app", snapshotId: snapshot.id, target: { kind: "path", path: target } },
      { actor },
    ),
  ).rejects.toThrow(message);
  const leftovers = (await readdir(scratch)).filter(
    (name) => name.startsWith("restore-") || name.includes("infinity-scratch-"),
  );
  expect(leftovers).toEqual([]);
}

describe("a damaged archive is detected and named", () => {
  it("is fine before it is damaged", async () => {
    const outcome = await verifySnapshot(app, "acme/app", snapshot.id, { level: "deep", actor });
    expect(outcome.verification.verdict).toBe("ok");
  });

  it("a flipped byte in segment 2", async () => {
    const damaged = Buffer.from(original);
    damaged[segmentOffset(damaged, 2) + 1234]! ^= 0x40;
    await expectDetected(damaged, /segment 2 failed authentication/);
  });

  it("a flipped byte in the last segment's tag", async () => {
    const damaged = Buffer.from(original);
    damaged[damaged.length - 1]! ^= 0x01;
    await expectDetected(damaged, /segment 3 failed authentication/);
  });

  it("truncated after a segment", async () => {
    await expectDetected(
      original.subarray(0, segmentOffset(original, 2)),
      /archive truncated after segment 1/,
    );
  });

  it("truncated inside the header", async () => {
    await expectDetected(original.subarray(0, 30), /truncated inside its header/);
  });

  it("two segments swapped", async () => {
    const damaged = Buffer.from(original);
    const a = Buffer.from(original.subarray(segmentOffset(original, 1), segmentOffset(original, 2)));
    const b = Buffer.from(original.subarray(segmentOffset(original, 2), segmentOffset(original, 3)));
    b.copy(damaged, segmentOffset(original, 1));
    a.copy(damaged, segmentOffset(original, 2));
    await expectDetected(damaged, /segment 1 failed authentication/);
  });

  it("the header of another archive", async () => {
    const foreign = await readFile(join(ws.dir, "data", "archives", other.objectKey));
    const foreignHeader = foreign.subarray(0, 14 + foreign.readUInt32BE(10));
    const body = original.subarray(14 + original.readUInt32BE(10));
    await expectDetected(Buffer.concat([foreignHeader, body]), /header belongs to acme\/other snapshot/);
  });

  it("a byte changed in the clear-text header", async () => {
    const damaged = Buffer.from(original);
    const text = damaged.toString("latin1", 14, 14 + damaged.readUInt32BE(10));
    const at = 14 + text.indexOf('"createdAt":"') + 14; // a digit of the year
    damaged[at] = damaged[at] === 0x31 ? 0x32 : 0x31;
    await expectDetected(damaged, /segment 0 failed authentication/);
  });

  it("not an archive at all", async () => {
    await expectDetected(
      Buffer.from("hello, this is not an archive at all, just text"),
      /not an infinity-backup archive/,
    );
  });

  it("an empty archive object", async () => {
    await expectDetected(original.subarray(0, 0), /truncated inside its header/);
  });

  it("a missing archive object", async () => {
    await rm(file);
    const outcome = await verifySnapshot(app, "acme/app", snapshot.id, { level: "quick", actor });
    expect(outcome.verification.verdict).toBe("failed");
    expect(outcome.verification.detail).toContain(snapshot.objectKey);
  });
});

describe("a snapshot that fails midway leaves nothing committed", () => {
  it("storage failing mid-upload: no index record, no object", async () => {
    const failing: BlobStore = Object.create(app.store);
    failing.put = async (key: string, body: Readable) => {
      let seen = 0;
      for await (const chunk of body) {
        seen += (chunk as Buffer).length;
        if (seen > 1024 * 1024) throw new Error("storage went away mid-upload");
      }
      return app.store.put(key, Readable.from([]));
    };
    const before = await app.index.list("acme/app");
    await pushCommit(
      join(scratch, "source.git"),
      "main",
      "more.txt",
      randomBytes(2 * 1024 * 1024).toString("base64"),
    );
    await expect(
      snapshotRepo({ ...app, store: failing }, "acme/app", { url: join(scratch, "source.git") }, { actor }),
    ).rejects.toThrow(/mid-upload/);
    expect(await app.index.list("acme/app")).toEqual(before);
    const keys: string[] = [];
    for await (const blob of app.store.list("repos/acme/app/")) keys.push(blob.key);
    expect(keys).toEqual([snapshot.objectKey]);
    const audit = await readFile(join(ws.dir, "data", "audit.jsonl"), "utf8");
    expect(audit).toMatch(/"action":"snapshot.failed".*mid-upload/);
  });

  it("a snapshot stopped by its deadline commits nothing and says why", async () => {
    const source = join(scratch, "source.git");
    await pushCommit(source, "main", "late.txt", randomBytes(1024 * 1024).toString("base64"));
    const before = await app.index.list("acme/app");
    const error = await snapshotRepo(
      app,
      "acme/app",
      { url: source },
      { actor, signal: AbortSignal.abort("time limit") },
    ).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(DeadlineError);
    expect((error as Error).message).toMatch(/stopped: time limit; nothing was committed/);
    expect(await app.index.list("acme/app")).toEqual(before);
    const keys: string[] = [];
    for await (const blob of app.store.list("repos/acme/app/")) keys.push(blob.key);
    expect(keys).toEqual(before.map((s) => s.objectKey).sort());
  });
});
