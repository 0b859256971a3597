// DEV TOOL, NOT RUN BY CI: the other direction of the Tink interop check. Encrypts the same plaintexts
// as the Tink vectors with OUR EncryptStream and writes them, with a manifest.json, to DIR, for
//   npx tsx test/vectors/tink/encrypt-ours.ts /tmp/ours
//   /tmp/tinkenv/bin/python test/vectors/tink/generate.py check-ours /tmp/ours [--commit NAME ...]
// which decrypts each with Tink. See generate.py.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import {
  EncryptStream,
  FIRST_SEGMENT_PLAINTEXT,
  SEGMENT_PLAINTEXT,
} from "../../../functions/core/archive/streaming-aead.js";
import { plaintext } from "./plaintext.js";

interface IndexEntry {
  name: string;
  plaintextLength: number;
  associatedDataHex: string;
}

const dir = process.argv[2];
if (!dir) {
  console.error("usage: npx tsx test/vectors/tink/encrypt-ours.ts DIR");
  process.exit(2);
}
const index = JSON.parse(readFileSync(new URL("./index.json", import.meta.url), "utf8")) as {
  keyHex: string;
  tink: IndexEntry[];
};
const key = Buffer.from(index.keyHex, "hex");

// The Tink vectors' sizes and associated data, plus two more segment boundaries.
const cases: IndexEntry[] = [
  ...index.tink,
  {
    name: "two-segments-exact",
    plaintextLength: FIRST_SEGMENT_PLAINTEXT + SEGMENT_PLAINTEXT,
    associatedDataHex: index.tink[0]!.associatedDataHex,
  },
  {
    name: "two-segments-plus-one",
    plaintextLength: FIRST_SEGMENT_PLAINTEXT + SEGMENT_PLAINTEXT + 1,
    associatedDataHex: index.tink[0]!.associatedDataHex,
  },
];

async function encrypt(plain: Buffer, ad: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const source = Readable.from(
    (function* () {
      for (let i = 0; i < plain.length; i += 65_537) yield plain.subarray(i, i + 65_537);
    })(),
  );
  for await (const chunk of source.pipe(new EncryptStream(key, ad))) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

mkdirSync(dir, { recursive: true });
const vectors = [];
for (const c of cases) {
  const plain = plaintext(c.plaintextLength);
  const cipher = await encrypt(plain, Buffer.from(c.associatedDataHex, "hex"));
  const file = `${c.name}.bin`;
  writeFileSync(join(dir, file), cipher);
  vectors.push({
    name: c.name,
    file,
    plaintextLength: plain.length,
    plaintextSha256: createHash("sha256").update(plain).digest("hex"),
    associatedDataHex: c.associatedDataHex,
  });
  console.log(`${c.name}: ${plain.length} B -> ${cipher.length} B`);
}
writeFileSync(join(dir, "manifest.json"), JSON.stringify({ keyHex: index.keyHex, vectors }, null, 2) + "\n");
