// A git protocol v2 client for the two commands a backup needs: ls-refs (what the refs are)
// and fetch (one packfile of everything reachable from them), streamed as it arrives.
import { Readable } from "node:stream";
import { GitError, SourceError } from "../errors.js";
import type { RefMap } from "../model.js";
import type { GitRemote } from "../ports.js";
import { DELIM, FLUSH, pktLine, type PktReader } from "./pkt-line.js";
import { refNameClash, refNameProblem, shortenLongWords, shortRefName } from "./ref-names.js";
import { connect, displayUrl, type UploadPackConnection } from "./transport.js";

export interface RemoteRefs {
  refs: RefMap;
  /**
   * The ref HEAD points to, when the server says: also when that ref has no commit (an unborn
   * HEAD: an empty repository, or a branch deleted under it), if the server lists unborn HEADs.
   */
  head?: string;
  /**
   * Annotated tags among `refs`: the object each peels to, through tags of tags (ls-refs
   * `peeled:`, what `git rev-parse <ref>^{}` says). Any type: a tag may point at a tree or a blob.
   */
  peeled?: RefMap;
  /**
   * Set by fetchPack once the server has said which objects are commits: the refs that lead to
   * no commit (a tag of a tree or a blob, or a ref straight at one), sorted. Absent when the
   * server could not say.
   */
  nonCommits?: string[];
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

async function listRefs(conn: UploadPackConnection, where: string): Promise<RemoteRefs> {
  // "unborn": HEAD is listed even when the branch it names has no commit yet (an empty
  // repository, or HEAD left at a deleted branch), so its target is kept like any other's.
  const unborn = conn.capabilities.some((c) => /^ls-refs=(.* )?unborn( |$)/.test(c));
  const reader = await conn.request(
    commandRequest(conn, "ls-refs", ["symrefs", "peel", ...(unborn ? ["unborn"] : [])]),
  );
  const result: RemoteRefs = { refs: {} };
  for (const line of await reader.lines()) {
    const [oid, name, ...attributes] = line.split(" ");
    if (!oid || !name || !(/^[0-9a-f]{40}$/.test(oid) || (oid === "unborn" && name === "HEAD")))
      throw new GitError(`unexpected ls-refs line ${JSON.stringify(shortenLongWords(line))}`);
    if (name === "HEAD") {
      const target = attributes.find((a) => a.startsWith("symref-target:"));
      if (target) result.head = restorableRef(target.slice("symref-target:".length), where, "HEAD points to");
      continue;
    }
    result.refs[restorableRef(name, where, "lists")] = oid;
    const peeled = attributes.find((a) => a.startsWith("peeled:"))?.slice("peeled:".length);
    if (peeled !== undefined) {
      if (!/^[0-9a-f]{40}$/.test(peeled))
        throw new GitError(`unexpected ls-refs line ${JSON.stringify(shortenLongWords(line))}`);
      (result.peeled ??= {})[name] = peeled;
    }
  }
  result.peeled ??= {};
  const clash = refNameClash(Object.keys(result.refs));
  if (clash)
    throw new SourceError(
      `${where} lists ${JSON.stringify(shortRefName(clash[0]))} and ${JSON.stringify(shortRefName(clash[1]))}: ` +
        `git cannot hold a ref and a ref below it, so no restore could`,
      { permanent: true },
    );
  return result;
}

/**
 * `name` when git would take it as a ref name; else the backup is refused before anything is
 * stored, since no restore could create that ref (a hostile or broken server's listing).
 */
function restorableRef(name: string, where: string, what: string): string {
  const problem = refNameProblem(name);
  if (problem === undefined) return name;
  throw new SourceError(
    `${where} ${what} a ref git cannot create, so no restore could: ${JSON.stringify(shortRefName(name))} (${problem})`,
    { permanent: true },
  );
}

/**
 * Which of `oids` are commits. ls-refs says what a tag peels to but not what that object is, and
 * a bundle's prerequisites must be commits. A fetch of them at depth 1 tells: upload-pack answers
 * a "shallow" line for each wanted commit (its get_shallow_commits skips trees and blobs). With
 * `filter tree:0` the pack that follows holds only those commits (and any wanted tree or blob
 * itself): about 200 KB and 0.4 s for git/git's thousand tags. Not without the filter: the pack
 * would hold every tip's whole tree, and sending the oids as haves as well, for an empty pack,
 * costs as much as packing the repository (a shallow pack marks every tree of the haves).
 * It runs on a connection of its own, since upload-pack remembers the shallow commits for the
 * rest of a stdio session. Undefined when the server cannot deepen and filter a fetch.
 */
async function commitsAmong(remote: GitRemote, oids: string[]): Promise<Set<string> | undefined> {
  if (oids.length === 0) return new Set();
  const conn = await connect(remote);
  try {
    const fetchCaps = conn.capabilities.find((c) => c.startsWith("fetch"))?.split(/[= ]/) ?? [];
    if (!fetchCaps.includes("shallow") || !fetchCaps.includes("filter")) return undefined;
    const args = [...oids.map((o) => `want ${o}`), "deepen 1", "filter tree:0", "done"];
    const reader = await conn.request(commandRequest(conn, "fetch", args));
    const commits = new Set<string>();
    for (;;) {
      const pkt = await reader.expect();
      if (pkt.kind !== "data") throw new GitError("git server ended the fetch response before the packfile");
      const section = pkt.payload.toString("utf8").trim();
      if (section === "packfile") break;
      for (const line of await reader.lines(true)) {
        if (section === "shallow-info" && line.startsWith("shallow ")) commits.add(line.slice(8));
      }
    }
    for await (const _ of packData(reader, undefined, true)); // the small pack: read to its end
    const wanted = new Set(oids);
    return new Set([...commits].filter((c) => wanted.has(c)));
  } finally {
    await conn.close();
  }
}

/**
 * The refs that lead to no commit. Tips of refs/heads/ are commits (git refuses anything else
 * there); every other ref's peeled object is asked about. Undefined when the server cannot say.
 */
async function nonCommitRefs(remote: GitRemote, listed: RemoteRefs): Promise<string[] | undefined> {
  const peel = (name: string) => listed.peeled?.[name] ?? listed.refs[name]!;
  const names = Object.keys(listed.refs);
  const known = new Set(names.filter((n) => n.startsWith("refs/heads/")).map(peel));
  const asked = [...new Set(names.map(peel))].filter((oid) => !known.has(oid)).sort();
  const commits = await commitsAmong(remote, asked);
  if (!commits) return undefined;
  return names.filter((n) => !known.has(peel(n)) && !commits.has(peel(n))).sort();
}

/** The refs of a repository, without fetching any object. */
export async function lsRefs(remote: GitRemote): Promise<RemoteRefs> {
  const conn = await connect(remote);
  try {
    checkObjectFormat(conn, displayUrl(remote.url));
    return await listRefs(conn, displayUrl(remote.url));
  } finally {
    await conn.close();
  }
}

async function* packData(
  reader: PktReader,
  onProgress?: (line: string) => void,
  inPack = false,
): AsyncGenerator<Buffer> {
  // Sections before the pack (acknowledgments, shallow-info, wanted-refs) end with a delimiter.
  while (!inPack) {
    const pkt = await reader.expect();
    if (pkt.kind !== "data") throw new GitError("git server ended the fetch response before the packfile");
    const section = pkt.payload.toString("utf8").trim();
    if (section === "packfile") break;
    // We never ask for a shallow fetch here: this section means the source itself is shallow, and
    // its history stops at a cut. Such a snapshot could not be restored: refuse it before storing.
    if (section === "shallow-info") {
      const cuts = (await reader.lines(true)).filter((l) => l.startsWith("shallow ")).length;
      throw new SourceError(
        `source repository is shallow: its history is cut at ${cuts} commit(s) (a shallow clone); ` +
          `back up the repository it was cloned from, or unshallow it (git fetch --unshallow)`,
        { permanent: true },
      );
    }
    await reader.lines(true);
  }
  for (;;) {
    const pkt = await reader.expectPieces();
    if (pkt.kind === "flush" || pkt.kind === "end") return;
    if (pkt.kind !== "data" || pkt.pieces.length === 0) continue;
    // The pack's bytes go on as the views they arrived in; only messages are joined.
    const [first, ...rest] = pkt.pieces as [Buffer, ...Buffer[]];
    const band = first[0];
    if (band === 1) {
      if (first.length > 1) yield first.subarray(1);
      yield* rest;
      continue;
    }
    const message = Buffer.concat([first.subarray(1), ...rest])
      .toString("utf8")
      .trim();
    if (band === 2) onProgress?.(message);
    else if (band === 3) throw new GitError(`git server error: ${message}`);
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
 * Before a pack is fetched, the refs' `nonCommits` are asked for (see commitsAmong).
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
    const refs = await listRefs(conn, displayUrl(remote.url));
    const wants = [...new Set(Object.values(refs.refs))].sort();
    if (wants.length === 0 || options.skip?.(refs)) return { refs };
    // The probe runs beside the fetch, while the server counts the pack's objects. A probe that
    // fails leaves the refs unclassified, which only makes a later incremental's prerequisites
    // fewer (see prerequisites.ts), never the backup wrong.
    const classifying = nonCommitRefs(remote, refs).catch(() => undefined);
    const args = [
      "ofs-delta",
      ...wants.map((w) => `want ${w}`),
      ...(options.have ?? []).map((h) => `have ${h}`),
      "done",
    ];
    const reader = await conn.request(commandRequest(conn, "fetch", args));
    const nonCommits = await classifying;
    if (nonCommits) refs.nonCommits = nonCommits;
    const stream = Readable.from(packData(reader, options.onProgress), { objectMode: false });
    // Closed before its end (a failed store, an abort): the server is ended, not left blocked.
    stream.once("close", () => void conn.close(!stream.readableEnded));
    handedOver = true;
    return { refs, pack: stream };
  } finally {
    if (!handedOver) await conn.close();
  }
}
