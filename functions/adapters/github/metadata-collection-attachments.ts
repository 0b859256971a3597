// The attachments of a collection (metadata-collection.ts): the links found in the bodies it wrote,
// their index, then each content new to the chain.
import type { ArchiveFile } from "../../core/archive/writer.js";
import { sortedUnique } from "../../core/metadata/order.js";
import { probeAttachments, reopenAttachment, shortHash } from "./metadata-attachments.js";
import { AttachmentOpener } from "./attachment-download.js";
import type { CollectionState } from "./metadata-collection-state.js";

/** Attachment URLs (and contents) a checkpoint remembers: about 40 bytes each in the index record. */
const CHECKPOINT_ATTACHMENTS = 2500;

/**
 * The attachments linked from the bodies this collection wrote and new to the chain: their index
 * (attachments.jsonl), then each content not yet in the chain, under its SHA-256.
 */
export async function* attachmentFiles(state: CollectionState): AsyncGenerator<ArchiveFile> {
  const kind = "attachments";
  state.assertPreviousRead(); // every body is scanned once its file was read
  const known = state.checkpoint?.attachments ?? { urls: [], blobs: [] };
  const next = { urls: [...known.urls], blobs: [...known.blobs] };
  state.next.attachments = next;
  const links = state.finder!.links();
  // Bounded, newest kept: an index record must stay small. A URL dropped here is read again
  // only if a body linking it changes (an incremental collection reads changed bodies only).
  const trim = () => {
    next.urls.splice(0, Math.max(0, next.urls.length - CHECKPOINT_ATTACHMENTS));
    next.blobs.splice(0, Math.max(0, next.blobs.length - CHECKPOINT_ATTACHMENTS));
  };
  if (state.checkpoint && links.length === 0) {
    state.outcomes[kind] = { state: "unchanged" };
    return;
  }
  const opener = new AttachmentOpener(state.api, state.attachments.hosts, state.attachments.signal);
  const lines = await probeAttachments(opener, links, state.attachments.maxBytes, state.window);
  next.urls.push(...links.map((link) => shortHash(link.url)));
  trim();
  const sorted = sortedUnique(kind, lines);
  state.outcomes[kind] = { state: state.checkpoint ? "delta" : "full", items: sorted.length };
  yield state.kindFile(kind, sorted);
  const stored = new Set(known.blobs);
  for (const [i, line] of lines.entries()) {
    if (line.state !== "stored" || stored.has(shortHash(line.sha256, true))) continue;
    stored.add(shortHash(line.sha256, true));
    state.assertPreviousRead();
    const body = await reopenAttachment(opener, links[i]!, line);
    state.unopened = body;
    yield state.file(line.path, () => {
      state.unopened = undefined;
      return body.once("end", () => {
        next.blobs.push(shortHash(line.sha256, true));
        trim();
      });
    });
  }
}
