// Archive header versions: format 2 (data key in the index's key record) is written with version 2
// and five fields; format 1 (data key wrapped in the header) is still read; a header that mixes
// them, or an unknown version, is refused with a clear error. And the key record's wrap is bound
// to its repository key and snapshot.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decodeHeader, encodeHeader, REPOSITORY_KEY_REF } from "../../../functions/core/archive/header.js";
import { ArchiveCorruptError, KeyError } from "../../../functions/core/errors.js";
import { unwrapDataKey, wrapDataKey } from "../../../functions/core/keys/data-key-wrap.js";

const common = {
  aead: "AES256_GCM_HKDF_1MB" as const,
  snapshotId: "20261201T000000000Z-aaaaaaaa",
  repo: "acme/app",
  createdAt: "2026-12-01T00:00:00.000Z",
};
const v1 = {
  ...common,
  keyRef: "local:0123456789abcdef",
  wrappedKey: Buffer.alloc(61, 1).toString("base64"),
};
const v2 = { ...common, keyRef: REPOSITORY_KEY_REF } as const;

/** A header's bytes with other JSON and version, as a damaged or foreign archive would have. */
function raw(version: number, json: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(json));
  const pre = Buffer.alloc(14);
  Buffer.from([0x89, 0x49, 0x42, 0x4b, 0x0d, 0x0a, 0x1a, 0x0a]).copy(pre);
  pre.writeUInt16BE(version, 8);
  pre.writeUInt32BE(body.length, 10);
  return Buffer.concat([pre, body]);
}

describe("archive header versions", () => {
  it("writes format 2 as version 2 and format 1 as version 1; both read back as written", () => {
    for (const [header, version] of [
      [v2, 2],
      [v1, 1],
    ] as const) {
      const bytes = encodeHeader(header);
      expect(bytes.readUInt16BE(8)).toBe(version);
      expect(decodeHeader(bytes)!.header).toEqual(header);
    }
  });

  it.each([
    ["version 2 with a wrapped key", raw(2, { ...v2, wrappedKey: v1.wrappedKey }), /wrappedKey/],
    ["version 2 naming a KMS key", raw(2, { ...common, keyRef: "local:0123456789abcdef" }), /keyRef/],
    ["version 1 without its wrapped key", raw(1, v2), /keyRef.*is for version 2 headers/],
    ["version 3", raw(3, v2), /format version 3 is not supported/],
  ])("refuses %s", (_name, bytes, message) => {
    expect(() => decodeHeader(bytes)).toThrow(ArchiveCorruptError);
    expect(() => decodeHeader(bytes)).toThrow(message);
  });

  it("a data key record opens only with its repository key, for its snapshot", () => {
    const repositoryKey = randomBytes(32);
    const dataKey = randomBytes(32);
    const wrapped = wrapDataKey(repositoryKey, "9c1f0e27a4b3d5e6", common.snapshotId, dataKey);
    expect(wrapped.length).toBe(61);
    expect(unwrapDataKey(repositoryKey, "9c1f0e27a4b3d5e6", common.snapshotId, wrapped).equals(dataKey)).toBe(
      true,
    );
    expect(() => unwrapDataKey(randomBytes(32), "9c1f0e27a4b3d5e6", common.snapshotId, wrapped)).toThrow(
      KeyError,
    );
    expect(() =>
      unwrapDataKey(repositoryKey, "9c1f0e27a4b3d5e6", "20261201T000000000Z-bbbbbbbb", wrapped),
    ).toThrow(/could not be unwrapped/);
    expect(() => unwrapDataKey(repositoryKey, "0000000000000000", common.snapshotId, wrapped)).toThrow(
      KeyError,
    );
  });
});
