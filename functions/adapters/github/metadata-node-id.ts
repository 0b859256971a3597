// GitHub's database id inside a GraphQL node id: what REST calls `id`. Timeline events have no
// `databaseId` field in GraphQL, yet their archive line is keyed by the REST event id, so that a
// timeline read through GraphQL and one read through REST overlay each other in a chain.
//
// GitHub documents node ids as opaque; two encodings are in use and both carry the database id
// last: the legacy one, base64 of "<length>:<Type><id>" ("010:LabeledEvent123"), and the current
// one, "<PREFIX>_" then base64url of a MessagePack array [0, ..., id]. Anything else gives
// undefined, and the caller keys the line by the node id itself.

/** The database id a node id carries, or undefined when it is not one of the two known encodings. */
export function databaseIdOf(nodeId: string): number | undefined {
  const underscore = nodeId.indexOf("_");
  if (underscore > 0 && /^[A-Z]+$/.test(nodeId.slice(0, underscore)))
    return lastInteger(Buffer.from(nodeId.slice(underscore + 1), "base64url"));
  const legacy = /^\d+:([A-Za-z]+?)(\d+)$/.exec(Buffer.from(nodeId, "base64").toString("latin1"));
  const id = legacy ? Number(legacy[2]) : NaN;
  return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

/** The last element of a MessagePack array of non-negative integers; undefined for anything else. */
function lastInteger(bytes: Buffer): number | undefined {
  let at = 0;
  const head = bytes[at++];
  let count: number;
  if (head === undefined) return undefined;
  if ((head & 0xf0) === 0x90) count = head & 0x0f;
  else if (head === 0xdc && bytes.length >= 3) [count, at] = [bytes.readUInt16BE(1), 3];
  else return undefined;
  let last: number | undefined;
  for (let i = 0; i < count; i++) {
    const type = bytes[at++];
    if (type === undefined) return undefined;
    const width = type <= 0x7f ? 0 : ({ 0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8 } as Record<number, number>)[type];
    if (width === undefined || at + width > bytes.length) return undefined;
    if (width === 0) last = type;
    else if (width === 8) last = Number(bytes.readBigUInt64BE(at));
    else last = bytes.readUIntBE(at, width);
    at += width;
  }
  if (at !== bytes.length || last === undefined || !Number.isSafeInteger(last) || last <= 0) return undefined;
  return last;
}
