// A pack's object count, read from its 12-byte header ("PACK", version, count) before the rest
// flows on: a fetch that brought nothing new (only deleted or moved refs) stores no layer.
import { Readable } from "node:stream";
import { GitError } from "../errors.js";

const PACK_HEADER_BYTES = 12;

/** The pack's declared object count, and the same bytes, unread, as a stream. */
export async function withPackCount(pack: Readable): Promise<{ objects: number; stream: Readable }> {
  const iterator = (pack as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  while (head.length < PACK_HEADER_BYTES) {
    const next = await iterator.next();
    if (next.done) throw new GitError(`the fetched pack ended after ${head.length} bytes, inside its header`);
    head = Buffer.concat([head, next.value]);
  }
  if (head.toString("latin1", 0, 4) !== "PACK")
    throw new GitError("the fetched pack does not start with PACK");
  const version = head.readUInt32BE(4);
  if (version !== 2 && version !== 3) throw new GitError(`pack version ${version} is not supported`);
  const objects = head.readUInt32BE(8);
  const stream = Readable.from(
    (async function* () {
      yield head;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    })(),
    { objectMode: false },
  );
  stream.on("close", () => {
    if (!stream.readableEnded) pack.destroy();
  });
  return { objects, stream };
}
