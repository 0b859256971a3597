// What a restore to GitHub reads from the snapshot: the item lines of the restored kinds (with
// what the snapshot could not give), and the stored files (release assets, attachments) streamed
// from the archives of its chain that hold them.
import type { Readable } from "node:stream";
import type { Deps } from "../deps.js";
import { readMetadata } from "../metadata/read.js";
import type { Snapshot } from "../model.js";
import { readSnapshotArchive } from "../read-snapshot.js";
import { rewriteAttachmentLinks } from "./attachments.js";
import {
  RESTORED_KINDS,
  restoredFields,
  type CommentLine,
  type IssueLine,
  type LabelLine,
  type MilestoneLine,
  type PullLine,
  type ReleaseLine,
  type ReviewCommentLine,
  type ReviewLine,
} from "./lines.js";
import type { GitHubRestoreOutcome } from "./restore-to-github.js";

export interface ItemLines {
  labels: LabelLine[];
  milestones: MilestoneLine[];
  issues: IssueLine[];
  comments: CommentLine[];
  pulls: PullLine[];
  reviews: ReviewLine[];
  reviewComments: ReviewCommentLine[];
  releases: ReleaseLine[];
  discussions: { number: number }[];
}

/** Every body that links a stored attachment, linking its copy instead. */
export function withAttachmentLinks(lines: ItemLines, links: ReadonlyMap<string, string>): ItemLines {
  if (!links.size) return lines;
  const bodies = <T extends { body?: string | null }>(items: T[]): T[] =>
    items.map((item) => (item.body ? { ...item, body: rewriteAttachmentLinks(item.body, links) } : item));
  return {
    ...lines,
    issues: bodies(lines.issues),
    comments: bodies(lines.comments),
    reviews: bodies(lines.reviews),
    reviewComments: bodies(lines.reviewComments),
    releases: bodies(lines.releases),
  };
}

export function emptyLines(): ItemLines {
  return {
    labels: [],
    milestones: [],
    issues: [],
    comments: [],
    pulls: [],
    reviews: [],
    reviewComments: [],
    releases: [],
    discussions: [],
  };
}

export async function readItems(
  deps: Deps,
  snapshot: Snapshot,
  actor: string,
): Promise<{ lines: ItemLines; chain: Snapshot[]; missing: GitHubRestoreOutcome["missing"] }> {
  const read = await readMetadata<unknown>(
    deps,
    snapshot,
    { kinds: RESTORED_KINDS, project: restoredFields },
    { actor, purpose: "restore to GitHub" },
  );
  const of = <T>(kind: (typeof RESTORED_KINDS)[number]) => (read.lines[kind] ?? []) as T[];
  const missing: GitHubRestoreOutcome["missing"] = [];
  for (const kind of RESTORED_KINDS) {
    const state = read.kinds[kind];
    if (state.state !== "present")
      missing.push({ kind, state: state.state, ...("reason" in state ? { reason: state.reason } : {}) });
  }
  return {
    chain: read.chain,
    missing,
    lines: {
      labels: of("labels"),
      milestones: of("milestones"),
      issues: of("issues"),
      comments: of("issue-comments"),
      pulls: of("pulls"),
      reviews: of("pull-reviews"),
      reviewComments: of("pull-review-comments"),
      releases: of("releases"),
      discussions: of("discussions"),
    },
  };
}

/** Streams the chain's files named by `paths`, archive by archive, only the archives needed. */
export async function readAssetFiles(
  deps: Deps,
  chain: readonly Snapshot[],
  paths: ReadonlySet<string>,
  onFile: (path: string, body: Readable) => Promise<void>,
): Promise<void> {
  let left = paths.size;
  for (const link of [...chain].reverse()) {
    if (!left) return;
    await readSnapshotArchive(deps, link, async (path, body) => {
      if (!paths.has(path)) return void body.resume();
      left--;
      await onFile(path, body);
    });
  }
}
