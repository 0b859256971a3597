// The checkpoint a collection hands to the next: plain JSON, checked on the way back in.
import { describe, expect, it } from "vitest";
import { metadataCheckpointSchema } from "../../../functions/core/metadata/checkpoint.js";
import { jsonlStream, parseJsonl } from "../../../functions/core/metadata/jsonl.js";
import { assetPath, isMetadataPath, kindPath } from "../../../functions/core/metadata/paths.js";

describe("metadata checkpoint and files", () => {
  const checkpoint = {
    v: 1,
    repoId: 12,
    kinds: {
      labels: { requests: [{ path: "/repos/a/b/labels?per_page=100", etag: 'W/"1"' }] },
      issues: { requests: [{ path: "/repos/a/b/issues?x", etag: 'W/"2"' }], mark: "2026-01-01T00:00:00Z" },
    },
    assets: { "7": "a".repeat(64) },
  };

  it("round-trips through JSON and refuses what it does not know", () => {
    expect(metadataCheckpointSchema.parse(JSON.parse(JSON.stringify(checkpoint)))).toEqual(checkpoint);
    expect(metadataCheckpointSchema.safeParse({ ...checkpoint, v: 2 }).success).toBe(false);
    expect(
      metadataCheckpointSchema.safeParse({ ...checkpoint, kinds: { wikis: { requests: [] } } }).success,
    ).toBe(false);
    const absolute = { labels: { requests: [{ path: "https://api.github.com/x", etag: "e" }] } };
    expect(metadataCheckpointSchema.safeParse({ ...checkpoint, kinds: absolute }).success).toBe(false);
  });

  it("lays out meta/ paths, and writes JSON Lines one object a line", async () => {
    expect(kindPath("pull-review-comments")).toBe("meta/pull-review-comments.jsonl");
    expect(assetPath(11, 201)).toBe("meta/assets/11/201");
    expect(isMetadataPath("meta/labels.jsonl")).toBe(true);
    expect(isMetadataPath("git/repo.bundle")).toBe(false);
    let count = 0;
    const text = Buffer.concat(
      await jsonlStream([{ a: "line\nbreak" }, { b: 2 }], () => count++).toArray(),
    ).toString();
    expect(text).toBe('{"a":"line\\nbreak"}\n{"b":2}\n');
    expect(count).toBe(2);
    expect(parseJsonl(text)).toEqual([{ a: "line\nbreak" }, { b: 2 }]);
  });
});
