// The heap's room while raw bytes stream (core/heap-room.ts): held while an archive's git or LFS
// file is written or read, back to the process's policy after, also when the read fails, and never
// set at all in a process without a policy.
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { readArchive } from "../../../functions/core/archive/reader.js";
import { writeArchive } from "../../../functions/core/archive/writer.js";
import {
  heapGrowingPercent,
  holdHeapRoom,
  setHeapPolicyPercent,
  STREAMING_GROWING_PERCENT,
} from "../../../functions/core/heap-room.js";
import { emptyFullManifest, TEST_HEADER } from "../../helpers/archive-header.js";

const key = randomBytes(32);
const header = TEST_HEADER;

/** A file whose bytes record the heap's percent at the moment the archive reads them. */
function observed(seen: (number | undefined)[], bytes: number): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < bytes; i += 65536) {
        seen.push(heapGrowingPercent());
        yield randomBytes(Math.min(65536, bytes - i));
      }
    })(),
  );
}

async function archiveOf(
  files: { path: string; seen: (number | undefined)[] }[],
  size = 300_000,
): Promise<Buffer> {
  const written = writeArchive({
    header,
    dataKey: key,
    manifest: emptyFullManifest(header),
    files: files.map((f) => ({ path: f.path, open: () => observed(f.seen, size) })),
  });
  const chunks: Buffer[] = [];
  for await (const chunk of written.stream) chunks.push(chunk as Buffer);
  await written.manifest;
  return Buffer.concat(chunks);
}

describe("heap room", () => {
  // First: module state is this file's own (vitest isolates files).
  it("does nothing in a process without a heap policy", async () => {
    const seen: (number | undefined)[] = [];
    const bytes = await archiveOf([{ path: "git/repo.bundle", seen }]);
    const release = holdHeapRoom();
    release();
    await readArchive(Readable.from([bytes]), { dataKey: async () => key });
    expect(seen.length).toBeGreaterThan(1);
    expect(new Set(seen)).toEqual(new Set([undefined]));
    expect(heapGrowingPercent()).toBeUndefined();
  });

  it("stays held until the last of overlapping streams releases it, each release counting once", () => {
    setHeapPolicyPercent(25);
    expect(heapGrowingPercent()).toBe(25);
    const a = holdHeapRoom();
    const b = holdHeapRoom();
    expect(heapGrowingPercent()).toBe(STREAMING_GROWING_PERCENT);
    a();
    a(); // a second call of the same release must not end b's room
    expect(heapGrowingPercent()).toBe(STREAMING_GROWING_PERCENT);
    b();
    expect(heapGrowingPercent()).toBe(25);
  });

  it("is held while a git or LFS file is written and read, not for metadata, and released after", async () => {
    setHeapPolicyPercent(25);
    const git: (number | undefined)[] = [];
    const lfs: (number | undefined)[] = [];
    const meta: (number | undefined)[] = [];
    const bytes = await archiveOf([
      { path: "git/repo.bundle", seen: git },
      { path: `lfs/objects/${"a".repeat(64)}`, seen: lfs },
      { path: "meta/issues.jsonl", seen: meta },
    ]);
    expect(new Set(git)).toEqual(new Set([STREAMING_GROWING_PERCENT]));
    expect(new Set(lfs)).toEqual(new Set([STREAMING_GROWING_PERCENT]));
    expect(new Set(meta)).toEqual(new Set([25]));
    expect(heapGrowingPercent()).toBe(25);

    const reading = new Map<string, Set<number | undefined>>();
    await readArchive(Readable.from([bytes]), {
      dataKey: async () => key,
      async onFile(path, body) {
        const seen = new Set<number | undefined>();
        reading.set(path, seen);
        for await (const _ of body) seen.add(heapGrowingPercent());
      },
    });
    expect(reading.get("git/repo.bundle")).toEqual(new Set([STREAMING_GROWING_PERCENT]));
    expect(reading.get("meta/issues.jsonl")).toEqual(new Set([25]));
    expect(heapGrowingPercent()).toBe(25);
  });

  it("is released when reading a git file fails part way", async () => {
    setHeapPolicyPercent(25);
    // Three segments: the first two reach the reader before the last one fails.
    const bytes = await archiveOf([{ path: "git/repo.bundle", seen: [] }], 2_500_000);
    const damaged = Buffer.from(bytes);
    damaged[damaged.length - 2000]! ^= 1; // inside the last segment: its tag fails
    let during: number | undefined;
    await expect(
      readArchive(Readable.from([damaged]), {
        dataKey: async () => key,
        async onFile(_path, body) {
          for await (const _ of body) during = heapGrowingPercent();
        },
      }),
    ).rejects.toThrow(/failed authentication/);
    expect(during).toBe(STREAMING_GROWING_PERCENT);
    expect(heapGrowingPercent()).toBe(25);
  });
});
