// MetadataReplay: a chain's metadata made whole snapshot by snapshot, as the fold writes it. Each
// snapshot's whole file of a kind equals FORMAT.md's chain rule (order.ts overlay) over the chain
// up to it, lines byte for byte as stored; states carry over as readMetadata's do; the stored
// files are those the whole lines name, from whichever archive held them; the record counts agree.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Manifest } from "../../../functions/core/archive/manifest.js";
import { MetadataReplay, type WholeMetadata } from "../../../functions/core/layers/fold-metadata.js";
import { parseJsonl } from "../../../functions/core/metadata/jsonl.js";
import type { KindOutcome } from "../../../functions/core/metadata/outcome.js";
import { assetPath, kindPath } from "../../../functions/core/metadata/paths.js";
import { snapshot } from "../../contract/snapshot-index.js";

type O = Record<string, unknown>;
let dir: string;
let step = 0;

async function member(kinds: Record<string, KindOutcome> | undefined, files: Record<string, string>) {
  const id = `s${step++}`;
  const saved = [];
  for (const [path, text] of Object.entries(files)) {
    const file = join(dir, `${id}-${saved.length}`);
    await writeFile(file, text);
    saved.push({ path, file });
  }
  const manifest = { ...(kinds ? { metadata: { kinds } } : {}) } as unknown as Manifest;
  return { snapshot: snapshot({ id }), manifest, files: saved };
}

const jsonl = (...lines: O[]) => lines.map((l) => JSON.stringify(l) + "\n").join("");

async function whole(result: WholeMetadata, path: string): Promise<string | undefined> {
  const file = result.files.find((f) => f.path === path)?.file;
  return file === undefined ? undefined : readFile(file, "utf8");
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fold-metadata-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("MetadataReplay", () => {
  it("overlays deltas by key, keeps unchanged and deferred kinds, forgets unavailable ones, and carries the named stored files", async () => {
    const replay = new MetadataReplay(dir);
    const release = (assets: number[]) => ({
      id: 11,
      assets: assets.map((id) => ({ id, path: assetPath(11, id) })),
    });
    // Full: issues out of key order (a transferred issue), one release with one asset.
    const first = await replay.next(
      await member(
        {
          issues: { state: "full", items: 3 },
          labels: { state: "full", items: 1 },
          releases: { state: "full", items: 1 },
        },
        {
          [kindPath("issues")]: jsonl({ number: 3, t: "c" }, { number: 1, t: "a" }, { number: 2, t: "b" }),
          [kindPath("labels")]: jsonl({ name: "bug" }),
          [kindPath("releases")]: jsonl(release([201])),
          [assetPath(11, 201)]: "asset 201",
          [assetPath(11, 999)]: "an asset no line names",
        },
      ),
    );
    expect(await whole(first, kindPath("issues"))).toBe(
      jsonl({ number: 1, t: "a" }, { number: 2, t: "b" }, { number: 3, t: "c" }),
    );
    expect(first.files.map((f) => f.path)).toEqual([
      kindPath("labels"),
      kindPath("issues"),
      kindPath("releases"),
      assetPath(11, 201),
    ]);
    // A delta (issue 2 edited, 4 new, one line repeated: the last wins), labels unavailable,
    // releases whole with a second asset whose bytes only this archive holds.
    const second = await replay.next(
      await member(
        {
          issues: { state: "delta", items: 3 },
          labels: { state: "unavailable", reason: "Resource not accessible", status: 403 },
          releases: { state: "full", items: 1 },
        },
        {
          [kindPath("issues")]: jsonl({ number: 4, t: "d" }, { number: 2, t: "x" }, { number: 2, t: "b2" }),
          [kindPath("releases")]: jsonl(release([201, 202])),
          [assetPath(11, 202)]: "asset 202",
        },
      ),
    );
    expect(parseJsonl((await whole(second, kindPath("issues")))!)).toEqual([
      { number: 1, t: "a" },
      { number: 2, t: "b2" },
      { number: 3, t: "c" },
      { number: 4, t: "d" },
    ]);
    expect(second.metadata?.kinds).toEqual({
      issues: { state: "full", items: 4 },
      labels: { state: "unavailable", reason: "Resource not accessible", status: 403 },
      releases: { state: "full", items: 1 },
    });
    expect(await whole(second, kindPath("labels"))).toBeUndefined();
    expect(await whole(second, assetPath(11, 201))).toBe("asset 201");
    expect(await whole(second, assetPath(11, 202))).toBe("asset 202");
    expect(second.record).toMatchObject({
      items: { issues: 4, releases: 1 },
      unavailable: { labels: "403: Resource not accessible" },
    });
    // Unchanged and deferred keep what the chain had; a deferred kind nothing had stays deferred.
    const third = await replay.next(
      await member(
        {
          issues: { state: "deferred", reason: "rate budget" },
          releases: { state: "unchanged" },
          milestones: { state: "deferred", reason: "rate budget" },
        },
        {},
      ),
    );
    expect(third.metadata?.kinds).toEqual({
      issues: { state: "full", items: 4 },
      releases: { state: "full", items: 1 },
      milestones: { state: "deferred", reason: "rate budget" },
    });
    expect(third.record).toMatchObject({ deferred: { milestones: "rate budget" } });
    expect(parseJsonl((await whole(third, kindPath("issues")))!)).toHaveLength(4);
    expect(third.files.map((f) => f.path)).toContain(assetPath(11, 202));
    // An archive with no metadata reads as holding none; the next full starts over.
    expect(await replay.next(await member(undefined, {}))).toEqual({ files: [] });
    const fifth = await replay.next(
      await member({ issues: { state: "delta", items: 1 } }, { [kindPath("issues")]: jsonl({ number: 9 }) }),
    );
    expect(fifth.metadata?.kinds).toEqual({ issues: { state: "full", items: 1 } });
  });

  it("refuses an archive whose manifest lists a kind's file it does not hold, naming both", async () => {
    const replay = new MetadataReplay(dir);
    await expect(replay.next(await member({ issues: { state: "full", items: 1 } }, {}))).rejects.toThrow(
      /lists issues as full but has no meta\/issues.jsonl/,
    );
  });
});
