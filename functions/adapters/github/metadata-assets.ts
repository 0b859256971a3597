// A release asset's bytes on their way into the archive: counted and hashed as they pass, checked
// against the size (and SHA-256 digest, where GitHub gives one) that the release lists.
import { createHash } from "node:crypto";
import { Transform, pipeline, type Readable } from "node:stream";
import { AssetMismatchError } from "../../core/metadata/errors.js";

export interface AssetExpectation {
  size: number;
  /** "sha256:<hex>", as GitHub lists it. */
  digest?: string | null;
}

/** `body` passed through a check; `onVerified` gets the hex SHA-256 and size once the last byte passed. */
export function verifiedAsset(
  body: Readable,
  expected: AssetExpectation,
  what: string,
  onVerified: (sha256: string, size: number) => void,
  /** Who gave the expectation, for the error. */
  lister = "the release",
): Readable {
  const hash = createHash("sha256");
  let size = 0;
  const check = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      const sha256 = hash.digest("hex");
      if (size !== expected.size)
        return done(
          new AssetMismatchError(`${what}: ${size} bytes arrived, ${lister} lists ${expected.size}`),
        );
      const digest = /^sha256:([0-9a-f]{64})$/i.exec(expected.digest ?? "")?.[1]?.toLowerCase();
      if (digest && digest !== sha256)
        return done(new AssetMismatchError(`${what}: its SHA-256 differs from the digest ${lister} lists`));
      onVerified(sha256, size);
      done();
    },
  });
  pipeline(body, check, () => undefined); // an error of either side destroys `check`, which the reader sees
  return check;
}
