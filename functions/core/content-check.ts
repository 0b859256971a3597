// What one archive holds besides its git pack, against its manifest and its index record: every
// metadata file's line count (one item a line) against the manifest's count for its kind and the
// index's, attachments against the SHA-256 they are named by, LFS objects counted and weighed
// against the manifest and the index, the wiki and the bundle present exactly when the record says.
// Deep verification (verify.ts) reads archives through it; a restore drill (drill.ts) hands it the
// files its restore reads (ContentsWatch), so no archive is read twice. The bytes themselves
// against the manifest's SHA-256s are the archive reader's (archive/reader.ts).
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { BUNDLE_PATH, WIKI_PATH } from "./archive/paths.js";
import type { Manifest } from "./archive/manifest.js";
import { ArchiveCorruptError } from "./errors.js";
import { snapshotChain } from "./chain.js";
import type { Deps } from "./deps.js";
import { diffRefs } from "./git/local-repo.js";
import { lfsOidOf } from "./lfs/paths.js";
import { checkLfsObject } from "./lfs/restore.js";
import { ALL_KINDS, type MetadataKind } from "./metadata/kinds.js";
import { attachmentPath, kindPath } from "./metadata/paths.js";
import type { Snapshot } from "./model.js";
import type { DrillCheck } from "./ports.js";
import type { ArchiveObserver } from "./read-snapshot.js";

const KIND_OF_PATH = new Map<string, MetadataKind>(ALL_KINDS.map((kind) => [kindPath(kind), kind]));
const ATTACHMENT = new RegExp(`^${attachmentPath("([0-9a-f]{64})")}$`);
const NEWLINE = 0x0a;

export class ArchiveContents {
  private readonly lines = new Map<MetadataKind, number>();
  private attachments = 0;

  constructor(private readonly snapshot: Snapshot) {}

  /**
   * Reads `path` to its end when it is a metadata file (counting its lines) or an attachment
   * (hashing it); resolves false for any other path, leaving its body to the caller.
   */
  async take(path: string, body: Readable): Promise<boolean> {
    const kind = KIND_OF_PATH.get(path);
    if (kind) {
      this.lines.set(kind, await countLines(path, body));
      return true;
    }
    const named = ATTACHMENT.exec(path)?.[1];
    if (!named) return false;
    const hash = createHash("sha256");
    for await (const chunk of body as AsyncIterable<Buffer>) hash.update(chunk);
    const sha256 = hash.digest("hex");
    if (sha256 !== named)
      throw new ArchiveCorruptError(
        `${path} in the archive of ${this.snapshot.id} holds bytes whose SHA-256 is ${sha256.slice(0, 12)}…`,
      );
    this.attachments += 1;
    return true;
  }

  /**
   * After the whole archive was read (so every file matched its manifest entry): what it held
   * against the manifest and the index record. Resolves with the checks made; rejects with
   * ArchiveCorruptError naming the first difference.
   */
  check(manifest: Manifest): DrillCheck[] {
    const s = this.snapshot;
    const where = `the archive of ${s.id}`;
    const paths = new Set(manifest.entries.map((e) => e.path));
    const checks: DrillCheck[] = ["manifest"];
    const refs = diffRefs(s.refs, manifest.refs);
    if (refs) throw new ArchiveCorruptError(`manifest refs differ from the index: ${refs}`);
    const hasBundle = s.kind !== "layered" && Object.keys(s.refs).length > 0;
    if (hasBundle !== paths.has(BUNDLE_PATH))
      throw new ArchiveCorruptError(
        hasBundle ? `${where} has no ${BUNDLE_PATH}` : `unexpected ${BUNDLE_PATH}`,
      );
    const wiki = diffRefs(s.wikiRefs ?? {}, manifest.wikiRefs ?? {});
    if (wiki) throw new ArchiveCorruptError(`manifest wiki refs differ from the index: ${wiki}`);
    const hasWiki = Object.keys(s.wikiRefs ?? {}).length > 0;
    if (hasWiki !== paths.has(WIKI_PATH))
      throw new ArchiveCorruptError(hasWiki ? `${where} has no ${WIKI_PATH}` : `unexpected ${WIKI_PATH}`);
    if (hasWiki) checks.push("wiki");
    if (this.checkLfs(manifest)) checks.push("lfs");
    if (this.checkMetadata(manifest)) checks.push("metadata");
    if (this.attachments) checks.push("attachments");
    return checks;
  }

  /** Objects and bytes: the archive's, its manifest's, and (but for a layered one, whose objects are in its layer) the index's. */
  private checkLfs(manifest: Manifest): boolean {
    const s = this.snapshot;
    const held = manifest.entries.filter((e) => lfsOidOf(e.path));
    const bytes = held.reduce((n, e) => n + e.size, 0);
    const listed = manifest.lfs ?? { objects: 0, bytes: 0 };
    const indexed = s.kind === "layered" ? listed : (s.lfs ?? { objects: 0, bytes: 0 });
    if (
      held.length !== listed.objects ||
      bytes !== listed.bytes ||
      listed.objects !== indexed.objects ||
      listed.bytes !== indexed.bytes
    )
      throw new ArchiveCorruptError(
        `the archive of ${s.id} holds ${held.length} LFS objects (${bytes} bytes); its manifest says ` +
          `${listed.objects} (${listed.bytes} bytes), the index ${indexed.objects} (${indexed.bytes} bytes)`,
      );
    return held.length > 0 || manifest.lfs !== undefined;
  }

  /** Each kind's items: lines in its file, the manifest's count, the index's count. */
  private checkMetadata(manifest: Manifest): boolean {
    const s = this.snapshot;
    const kinds = manifest.metadata?.kinds ?? {};
    const indexed = s.metadata?.items ?? {};
    if ((manifest.metadata === undefined) !== (s.metadata === undefined))
      throw new ArchiveCorruptError(
        manifest.metadata
          ? `the archive of ${s.id} holds metadata the index does not record`
          : `the index records metadata the archive of ${s.id} does not hold`,
      );
    for (const kind of ALL_KINDS) {
      const outcome = kinds[kind];
      const counted = outcome && "items" in outcome ? outcome.items : undefined;
      const lines = this.lines.get(kind);
      const file = kindPath(kind);
      if (counted === undefined && lines !== undefined)
        throw new ArchiveCorruptError(
          `${file} is in the archive of ${s.id}, but its manifest says ${kind} has no file`,
        );
      if (counted !== undefined && lines === undefined)
        throw new ArchiveCorruptError(`${file} is missing from the archive of ${s.id}`);
      if (counted !== lines || indexed[kind] !== counted)
        throw new ArchiveCorruptError(
          `${file} holds ${lines} items; the manifest says ${counted}, the index ${indexed[kind] ?? "none"}`,
        );
    }
    const unknown = Object.keys(indexed).filter((k) => !(ALL_KINDS as readonly string[]).includes(k));
    if (unknown.length)
      throw new ArchiveCorruptError(
        `the index counts metadata kinds the archive has no file for: ${unknown.join(", ")}`,
      );
    return manifest.metadata !== undefined;
  }
}

/**
 * The archives whose contents a read of `snapshot` covers: its chain, oldest first; a layered
 * snapshot's own archive (its layers hold git and LFS objects, checked against their records as
 * they are read).
 */
export async function contentArchives(deps: Pick<Deps, "index">, snapshot: Snapshot): Promise<Snapshot[]> {
  return snapshot.kind === "layered" ? [snapshot] : snapshotChain(deps.index, snapshot);
}

/**
 * ArchiveContents for every archive one read passes, as an ArchiveObserver: a restore's (a drill)
 * or checkContents' own. A difference is kept, not thrown, so a drill's timed restore still ends
 * and its other checks still run; `verdict` throws what was kept. LFS objects the reader leaves
 * here are checked against their oid; those a restore unpacks it checks itself, the same way.
 */
export class ContentsWatch implements ArchiveObserver {
  private readonly reading = new Map<string, ArchiveContents>();
  private readonly read = new Set<string>();
  private readonly checks = new Set<DrillCheck>();
  /** The first difference found in each archive, by snapshot id. */
  private readonly findings = new Map<string, string>();
  /** Every LFS object the manifests read record as unavailable (the source could not give it). */
  readonly unavailableLfs = new Set<string>();

  async file(snapshot: Snapshot, path: string, body: Readable): Promise<void> {
    try {
      const oid = lfsOidOf(path);
      if (oid) return await checkLfsObject(oid, body, `the archive of ${snapshot.id}`);
      if (!(await this.contentsOf(snapshot).take(path, body))) body.resume();
    } catch (err) {
      if (!(err instanceof ArchiveCorruptError)) throw err;
      this.keep(snapshot, err);
      body.resume(); // the rest of a refused file is drained, the read goes on
    }
  }

  archive(snapshot: Snapshot, manifest: Manifest): void {
    try {
      if (!this.findings.has(snapshot.id))
        this.contentsOf(snapshot)
          .check(manifest)
          .forEach((c) => this.checks.add(c));
    } catch (err) {
      if (!(err instanceof ArchiveCorruptError)) throw err;
      this.keep(snapshot, err);
    }
    for (const missing of manifest.lfs?.unavailable ?? []) this.unavailableLfs.add(missing.oid);
    this.reading.delete(snapshot.id);
    this.read.add(snapshot.id);
  }

  /**
   * The checks made over `archives` (contentArchives of the snapshot read). Rejects with
   * ArchiveCorruptError naming each archive's difference, or an archive the read never finished.
   */
  verdict(archives: readonly Snapshot[]): DrillCheck[] {
    const unread = archives.filter((a) => !this.read.has(a.id)).map((a) => a.id);
    const found = [...this.findings.values()];
    if (unread.length) found.push(`the contents of ${unread.join(", ")} were not read`);
    if (found.length) throw new ArchiveCorruptError(found.join("; "));
    return [...this.checks];
  }

  private contentsOf(snapshot: Snapshot): ArchiveContents {
    let contents = this.reading.get(snapshot.id);
    if (!contents) this.reading.set(snapshot.id, (contents = new ArchiveContents(snapshot)));
    return contents;
  }

  private keep(snapshot: Snapshot, err: ArchiveCorruptError): void {
    if (!this.findings.has(snapshot.id)) this.findings.set(snapshot.id, err.message);
  }
}

/** Lines of a JSONL file: every one "\n"-terminated, so a last line without one is damage. */
async function countLines(path: string, body: Readable): Promise<number> {
  let lines = 0;
  let last: number | undefined;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, i + 1)) lines++;
    if (chunk.length) last = chunk[chunk.length - 1];
  }
  if (last !== undefined && last !== NEWLINE)
    throw new ArchiveCorruptError(`${path} ends inside a line (JSONL lines end with a newline)`);
  return lines;
}
