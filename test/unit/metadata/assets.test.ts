// A release asset checked on its way into the archive: size and SHA-256 digest.
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { verifiedAsset } from "../../../functions/adapters/github/metadata-assets.js";
import { AssetMismatchError } from "../../../functions/core/metadata/errors.js";

const bytes = Buffer.from("the release binary, in a few chunks");
const sha256 = createHash("sha256").update(bytes).digest("hex");
const body = () => Readable.from([bytes.subarray(0, 5), bytes.subarray(5, 20), bytes.subarray(20)]);

describe("verifiedAsset", () => {
  it("passes the bytes through and reports their SHA-256 and size at the end", async () => {
    const seen: [string, number][] = [];
    const out = verifiedAsset(body(), { size: bytes.length, digest: `sha256:${sha256}` }, "asset 1", (s, n) =>
      seen.push([s, n]),
    );
    expect(Buffer.concat(await out.toArray())).toEqual(bytes);
    expect(seen).toEqual([[sha256, bytes.length]]);
  });

  it("fails on a size or digest that differs, and passes an error of the source on", async () => {
    const none = () => expect.unreachable("not verified");
    await expect(
      verifiedAsset(body(), { size: bytes.length + 1 }, "asset 1", none).toArray(),
    ).rejects.toThrow(AssetMismatchError);
    const wrong = `sha256:${"f".repeat(64)}`;
    await expect(
      verifiedAsset(body(), { size: bytes.length, digest: wrong }, "asset 1", none).toArray(),
    ).rejects.toThrow(/asset 1: its SHA-256 differs/);
    const broken = new Readable({
      read() {
        this.destroy(new Error("socket hang up"));
      },
    });
    await expect(verifiedAsset(broken, { size: 1 }, "asset 1", none).toArray()).rejects.toThrow(
      /socket hang up/,
    );
  });
});
