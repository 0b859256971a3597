// The attachments of one collection: the links found in the bodies it wrote, those new to the chain
// each read once to learn their SHA-256 (an attachment is stored under its content's hash, and tar
// needs a file's name before its bytes), then each new content read again straight into the
// archive and checked against the first read. Nothing is held whole; the reads are streamed.
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { SourceError } from "../../core/errors.js";
import { AssetMismatchError } from "../../core/metadata/errors.js";
import { attachmentPath } from "../../core/metadata/paths.js";
import type { AttachmentOpener } from "./attachment-download.js";
import { attachmentLinks, type AttachmentLink, type UserContentHosts } from "./attachment-urls.js";
import { verifiedAsset } from "./metadata-assets.js";

/** A line of attachments.jsonl. */
export type AttachmentLine =
  | { url: string; state: "stored"; path: string; sha256: string; size: number; content_type: string | null }
  | { url: string; state: "missing" | "refused"; status: number }
  | { url: string; state: "too-large"; size?: number; reason: string };

/** The 64-bit prefix the checkpoint keeps of a URL's or a content's SHA-256. */
export function shortHash(text: string, isSha256 = false): string {
  return (isSha256 ? text : createHash("sha256").update(text).digest("hex")).slice(0, 16);
}

export class AttachmentFinder {
  private readonly found = new Map<string, AttachmentLink>();

  constructor(
    private readonly repo: string,
    private readonly hosts: UserContentHosts,
    /** Short hashes of the URLs the chain holds already: not read again. */
    private readonly known: ReadonlySet<string>,
  ) {}

  /** Notes the attachment links of a body. */
  scan(body: unknown): void {
    if (typeof body !== "string") return;
    for (const link of attachmentLinks(body, this.repo, this.hosts))
      if (!this.found.has(link.url) && !this.known.has(shortHash(link.url))) this.found.set(link.url, link);
  }

  /** The links new to the chain, in the order they were found. */
  links(): AttachmentLink[] {
    return [...this.found.values()];
  }
}

function mebibytes(bytes: number): string {
  return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;
}

/** What `link` holds: read through once, hashed and counted, nothing kept. */
export async function probeAttachment(
  opener: AttachmentOpener,
  link: AttachmentLink,
  maxBytes: number,
): Promise<AttachmentLine> {
  const what = `attachment ${link.url}`;
  const opened = await opener.open(link, what);
  const { url } = link;
  if (!opened.found)
    return {
      url,
      state: opened.status === 404 || opened.status === 410 ? "missing" : "refused",
      status: opened.status,
    };
  const tooLarge = (size?: number): AttachmentLine => ({
    url,
    state: "too-large",
    ...(size === undefined ? {} : { size }),
    reason: `larger than the ${mebibytes(maxBytes)} an attachment may have`,
  });
  if (opened.length !== undefined && opened.length > maxBytes) {
    opened.body.destroy();
    return tooLarge(opened.length);
  }
  const hash = createHash("sha256");
  let size = 0;
  try {
    for await (const chunk of opened.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        opened.body.destroy();
        return tooLarge();
      }
      hash.update(chunk);
    }
  } catch {
    // The cause is left out: a storage host's error may quote its signed URL.
    throw new SourceError(`${what}: the download broke off`, { permanent: false });
  }
  const sha256 = hash.digest("hex");
  return {
    url,
    state: "stored",
    path: attachmentPath(sha256),
    sha256,
    size,
    content_type: opened.contentType,
  };
}

/** Probes `links`, up to `window` at once, in their order. */
export async function probeAttachments(
  opener: AttachmentOpener,
  links: readonly AttachmentLink[],
  maxBytes: number,
  window = 4,
): Promise<AttachmentLine[]> {
  const results: AttachmentLine[] = new Array<AttachmentLine>(links.length);
  let next = 0;
  const worker = async () => {
    while (next < links.length) {
      const i = next++;
      results[i] = await probeAttachment(opener, links[i]!, maxBytes);
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, links.length) }, worker));
  return results;
}

/**
 * The stored attachment's bytes read again, checked against the first read on the way (size and
 * SHA-256): its archive file. An attachment gone or changed meanwhile fails the collection.
 */
export async function reopenAttachment(
  opener: AttachmentOpener,
  link: AttachmentLink,
  line: Extract<AttachmentLine, { state: "stored" }>,
): Promise<Readable> {
  const what = `attachment ${link.url}`;
  const opened = await opener.open(link, what);
  if (!opened.found)
    throw new AssetMismatchError(`${what}: gone (HTTP ${opened.status}) since it was first read`);
  const expected = { size: line.size, digest: `sha256:${line.sha256}` };
  return verifiedAsset(opened.body, expected, what, () => undefined, "the first read");
}
