// The deterministic plaintexts of the Tink interop vectors, so they need not be stored: the first `n`
// bytes of SHA-256(label || u32be(0)) || SHA-256(label || u32be(1)) || ... Same as generate.py.
import { createHash } from "node:crypto";

export const PLAINTEXT_LABEL = "infinity-backup/tink-vectors/plaintext";

export function sha256Stream(label: string, n: number): Buffer {
  const out = Buffer.alloc(Math.ceil(n / 32) * 32);
  const counter = Buffer.alloc(4);
  for (let i = 0; i * 32 < n; i++) {
    counter.writeUInt32BE(i);
    createHash("sha256")
      .update(label)
      .update(counter)
      .digest()
      .copy(out, i * 32);
  }
  return out.subarray(0, n);
}

export const plaintext = (n: number): Buffer => sha256Stream(PLAINTEXT_LABEL, n);
