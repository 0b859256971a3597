// A git protocol v2 client for the two commands a backup needs: ls-refs (what the refs are)
// and fetch (one packfile of everything reachable from them), streamed as it arrives.
import { Readable } from "node:stream";
import { GitError, SourceError } from "../errors.js";
import type { RefMap } from "../model.js";
import type { GitRemote } from "../ports.js";
import { DELIM, FLUSH, pktLine, type PktReader } from "./pkt-line.js";
import { connect, displayUrl, type UploadPackConnection } from "./transport.js";

export interface RemoteRefs {
  refs: RefMap;
  /** The ref HEAD points to, when the server says. */
  head?: string;
}

function commandRequest(conn: UploadPackConnection, command: string, args: string[]): Buffer {
  const caps = conn.capabilities.filter((c) => c.startsWith("object-format="));
  return Buffer.concat([
    pktLine(`command=${command}\n`),
    ...caps.map((c) => pktLine(`${c}\n`)),
    DELIM,
    ...args.map((a) => pktLine(`${a}\n`)),
    FLUSH,
  ]);
}

function checkObjectFormat(conn: UploadPackConnection, where: string): void {
  const format = conn.capabilities.find((c) => c.startsWith("object-format="));
  if (format && format !== "object-format=sha1") {
    throw new SourceError(
      `${where} uses ${format.slice(14)} object ids, which this version cannot back up yet`,
      {
        permanent: true,
      },
    );
  }
}

async function listRefs(conn: UploadPackConnection): Promise<RemoteRefs> {
  const reader = await conn.request(commandRequest(conn, "ls-refs", ["symrefs", "peel"]));
  const result: RemoteRefs = { refs: {} };
  for (const line of await reader.lines()) {
    const [oid, name, ...attributes] = line.split(" ");
    if (!oid || !name || !/^[0-9a-f]{40}$/.test(oid))
      throw new GitError(`unexpected ls-refs line ${JSON.stringify(line)}`);
    if (name === "HEAD") {
      const target = attributes.find((a) => a.startsWith("symref-target:"));
      if (target) result.head = target.slice("symref-target:".length);
      continue;
    }
    result.refs[name] = oid;
  }
  return result;
}

/** The refs of a repository, without fetching any object. */
export async function lsRefs(remote: GitRemote): Promise<RemoteRefs> {
  const conn = await connect(remote);
  try {
    checkObjectFormat(conn, displayUrl(remote.url));
    return await listRefs(conn);
  } finally {
    await conn.close();
  }
}

async function* packData(reader: PktReader, onProgress?: (line: string) => void): AsyncGenerator<Buffer> {
  // Sections before the pack (acknowledgments, shallow-info, wanted-refs) end with a delimiter.
  for (;;) {
    const pkt = await reader.expect();
    if (pkt.kind !== "data") throw new GitError("git server ended the fetch response before the packfile");
    const section = pkt.payload.toString("utf8").trim();
    if (section === "packfile") break;
    await reader.lines(true);
  }
  for (;;) {
    const pkt = await reader.expect();
    if (pkt.kind === "flush" || pkt.kind === "end") return;
    if (pkt.kind !== "data") continue;
    const band = pkt.payload[0];
    if (band === 1) yield pkt.payload.subarray(1);
    else if (band === 2) onProgress?.(pkt.payload.subarray(1).toString("utf8").trim());
    else if (band === 3)
      throw new GitError(`git server error: ${pkt.payload.subarray(1).toString("utf8").trim()}`);
    else throw new GitError(`git server sent unknown sideband ${band}`);
  }
}

export interface FetchedPack {
  refs: RemoteRefs;
  /** The packfile bytes, as they arrive; absent when the repository has no refs. */
  pack?: Readable;
}

/**
 * Lists refs and, unless `skip(refs)` says the refs are already backed up, fetches one pack of
 * every object they reach. `have` object ids make the pack incremental (thin deltas excluded).
 * The connection closes when the pack stream ends or fails.
 */
export async function fetchPack(
  remote: GitRemote,
  options: {
    skip?: (refs: RemoteRefs) => boolean;
    have?: string[];
    onProgress?: (line: string) => void;
  } = {},
): Promise<FetchedPack> {
  const conn = await connect(remote);
  let handedOver = false;
  try {
    checkObjectFormat(conn, displayUrl(remote.url));
    const refs = await listRefs(conn);
    const wants = [...new Set(Object.values(refs.refs))].sort();
    if (wants.length === 0 || options.skip?.(refs)) return { refs };
    const args = [
      "ofs-delta",
      ...wants.map((w) => `want ${w}`),
      ...(options.have ?? []).map((h) => `have ${h}`),
      "done",
    ];
    const reader = await conn.request(commandRequest(conn, "fetch", args));
    const stream = Readable.from(packData(reader, options.onProgress), { objectMode: false });
    stream.once("close", () => void conn.close());
    handedOver = true;
    return { refs, pack: stream };
  } finally {
    if (!handedOver) await conn.close();
  }
}
