// Attachments on a restore to GitHub. GitHub has no public API that uploads an issue or comment
// attachment (the web UI's upload endpoint is undocumented), so each attachment the snapshot stored
// (meta/attachments/<sha256>, named by attachments.jsonl) is copied to the restore's own store
// beside the mapping (the restore bucket in the cloud, the data folder locally) and every body that
// links it is rewritten to link the copy. Each copy is a journal step: a resumed restore copies
// none twice, and the rewritten bodies are the same on every run.
import type { Readable } from "node:stream";
import type { Deps } from "../deps.js";
import { readMetadata } from "../metadata/read.js";
import type { Snapshot } from "../model.js";
import type { BlobStore } from "../ports.js";
import type { RestoreSteps } from "./steps.js";

/** An attachment the snapshot holds the bytes of. */
export interface StoredAttachment {
  /** The link as the archive keeps it (no fragment, no `jwt`). */
  url: string;
  /** Its bytes in the chain: meta/attachments/<sha256>. */
  path: string;
  sha256: string;
  contentType?: string;
}

export interface AttachmentsReport {
  /** Attachments the snapshot holds whose copies the restored bodies link. */
  copied: number;
  /** Links the snapshot could not store (gone, refused, too large): left as they were. */
  notStored: number;
  /** Where the copies are: a prefix of the restore's store, or absent when nothing was linked. */
  prefix?: string;
}

/** The snapshot's attachment index: the stored ones, and how many links it could not store. */
export async function readAttachments(
  deps: Pick<Deps, "store" | "keys" | "keyRecords" | "redactions" | "index" | "audit">,
  snapshot: Snapshot,
  actor: string,
): Promise<{ stored: StoredAttachment[]; notStored: number }> {
  if (!snapshot.metadata) return { stored: [], notStored: 0 };
  const read = await readMetadata(
    deps,
    snapshot,
    { kinds: ["attachments"] },
    { actor, purpose: "restore attachments" },
  );
  const stored: StoredAttachment[] = [];
  let notStored = 0;
  for (const line of read.lines.attachments ?? []) {
    const { url, state, path, sha256, content_type } = line as Record<string, unknown>;
    if (typeof url !== "string") continue;
    if (
      state === "stored" &&
      typeof path === "string" &&
      typeof sha256 === "string" &&
      /^[0-9a-f]{64}$/.test(sha256)
    )
      stored.push({
        url,
        path,
        sha256,
        ...(typeof content_type === "string" ? { contentType: content_type } : {}),
      });
    else notStored++;
  }
  return { stored, notStored };
}

/**
 * Copies each stored attachment to `store` under `prefix` (once, journaled) and answers the link of
 * each original URL's copy. `readFiles` streams the chain's files named by their paths.
 */
export async function copyAttachments(
  ctx: {
    steps: RestoreSteps;
    store: BlobStore;
    prefix: string;
    linkOf: (key: string) => string;
    readFiles: (
      paths: ReadonlySet<string>,
      onFile: (path: string, body: Readable) => Promise<void>,
    ) => Promise<void>;
  },
  attachments: readonly StoredAttachment[],
): Promise<Map<string, string>> {
  const keyOf = (a: StoredAttachment) => `${ctx.prefix}/${a.sha256}`;
  const byPath = new Map(attachments.map((a) => [a.path, a]));
  const wanted = new Set(
    [...byPath.values()]
      .filter((a) => ctx.steps.stateOf(`attachment:${a.sha256}`) !== "done")
      .map((a) => a.path),
  );
  if (wanted.size)
    await ctx.readFiles(wanted, async (path, body) => {
      const attachment = byPath.get(path)!;
      const key = keyOf(attachment);
      await ctx.steps.once(
        `attachment:${attachment.sha256}`,
        async () => {
          // Content-addressed: a copy already there (a run stopped before journaling it) is the same bytes.
          if (await ctx.store.stat(key)) body.resume();
          else
            await ctx.store.put(key, body, {
              metadata: {
                kind: "github-restore-attachment",
                sha256: attachment.sha256,
                ...(attachment.contentType ? { contentType: attachment.contentType } : {}),
              },
            });
          return { key };
        },
        undefined,
        false,
      );
    });
  const missing = [...wanted].filter(
    (p) => ctx.steps.stateOf(`attachment:${byPath.get(p)!.sha256}`) !== "done",
  );
  if (missing.length)
    throw new Error(
      `attachments named by the snapshot are not in its chain: ${missing.slice(0, 3).join(", ")}`,
    );
  return new Map(attachments.map((a) => [a.url, ctx.linkOf(keyOf(a))]));
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * `text` with every link to an attachment in `links` pointing at its copy. A link as a person
 * pasted it may carry a query (a `jwt` grant) or a fragment: those go with it.
 */
export function rewriteAttachmentLinks(
  text: string | null | undefined,
  links: ReadonlyMap<string, string>,
): string | null | undefined {
  if (!text || links.size === 0) return text;
  let out = text;
  for (const [url, copy] of links) {
    if (!out.includes(url)) continue;
    // Not a longer link that starts the same way (…/build.log inside …/build.log2).
    const pattern = `${escape(url)}(?![A-Za-z0-9/_%.-][A-Za-z0-9])(?:[?#][^\\s"'<>()\\[\\]]*)?`;
    out = out.replace(new RegExp(pattern, "g"), copy);
  }
  return out;
}
