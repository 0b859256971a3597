// Releases and their assets. Each release is created as a draft, its assets are uploaded streaming
// straight out of the archive that holds them (never held whole), and then it is published unless
// it was a draft. Created in the order GitHub made them (by id).
import type { Readable } from "node:stream";
import { ArchiveCorruptError } from "../errors.js";
import type { ItemContext } from "./context.js";
import type { AssetLine, ReleaseLine } from "./lines.js";
import { WriteRateLimitError } from "./errors.js";
import { hasMarker, provenanceMarker, withProvenance } from "./provenance.js";

export interface ReleasesReport {
  releases: number;
  assets: number;
  /** Assets the backup has no bytes of (still uploading when it was taken). */
  skippedAssets: { release: string; name: string }[];
}

/** Streams the archive files named by `paths` to `onFile`, each read to its end by it. */
export type AssetReader = (
  paths: ReadonlySet<string>,
  onFile: (path: string, body: Readable) => Promise<void>,
) => Promise<void>;

/** Passes over the archives for assets before giving up (each pass after a slow-down). */
const MAX_ROUNDS = 8;

export async function restoreReleases(
  ctx: ItemContext,
  releases: readonly ReleaseLine[],
  readAssets: AssetReader,
): Promise<ReleasesReport> {
  const ordered = [...releases].sort((a, b) => a.id - b.id);
  const assetCount = ordered.reduce((n, r) => n + r.assets.filter((a) => a.path).length, 0);
  ctx.steps.plan("releases", ordered.length + assetCount);
  const report: ReleasesReport = { releases: ordered.length, assets: assetCount, skippedAssets: [] };
  const newIds = new Map<number, number>();
  for (const release of ordered) {
    const marker = provenanceMarker("release", ctx.source, release.id);
    const { id } = await ctx.steps.once(
      `release:${release.id}`,
      async () => ({
        id: await ctx.pacer.write(() =>
          ctx.writer.createRelease(ctx.target, {
            tag_name: release.tag_name,
            ...(release.target_commitish ? { target_commitish: release.target_commitish } : {}),
            name: release.name ?? null,
            prerelease: release.prerelease,
            body: withProvenance(
              {
                kind: "release",
                source: ctx.source,
                id: release.id,
                author: release.author,
                at: release.published_at ?? release.created_at,
                url: `${ctx.webUrl}/${ctx.source}/releases/tag/${encodeURIComponent(release.tag_name)}`,
              },
              release.body,
            ),
          }),
        ),
      }),
      async () => {
        const there = (await ctx.writer.releases(ctx.target)).find((r) => hasMarker(r.body, marker));
        return there && { id: there.id };
      },
    );
    newIds.set(release.id, id);
    for (const asset of release.assets)
      if (!asset.path) report.skippedAssets.push({ release: release.tag_name, name: asset.name });
  }
  // The assets not uploaded yet, by the archive path of their bytes.
  const pending = new Map<string, { release: ReleaseLine; asset: AssetLine }[]>();
  for (const release of ordered)
    for (const asset of release.assets) {
      if (!asset.path) continue;
      if (ctx.steps.result(`asset:${asset.id}`)) {
        ctx.steps.credit(1);
        continue;
      }
      pending.set(asset.path, [...(pending.get(asset.path) ?? []), { release, asset }]);
    }
  // One pass over the archives per round: an upload GitHub slowed down (its body half sent) or the
  // same bytes under a second release are read again in the next round.
  let slowed = false;
  for (let round = 0; pending.size && round < MAX_ROUNDS; round++)
    await readAssets(new Set(pending.keys()), async (path, body) => {
      const [first, ...more] = pending.get(path) ?? [];
      if (!first) return void body.resume();
      try {
        await uploadAsset(ctx, newIds.get(first.release.id)!, first.asset, body);
      } catch (err) {
        body.resume();
        if (err instanceof WriteRateLimitError) return void (slowed = true);
        throw err;
      }
      if (more.length) pending.set(path, more);
      else pending.delete(path);
    });
  for (const [path, left] of pending)
    throw slowed
      ? new WriteRateLimitError(
          `GitHub kept slowing down the upload of ${left[0]!.asset.name}; run the restore again to continue`,
        )
      : new ArchiveCorruptError(
          `the backup lacks the bytes of release asset ${left[0]!.asset.name} (${path}): is the snapshot's chain whole?`,
        );
  for (const release of ordered)
    if (!release.draft)
      await ctx.steps.once(
        `publish:${release.id}`,
        async () => {
          await ctx.pacer.write(() => ctx.writer.publishRelease(ctx.target, newIds.get(release.id)!));
          return { published: true };
        },
        undefined,
        false,
      );
  return report;
}

async function uploadAsset(ctx: ItemContext, releaseId: number, asset: AssetLine, body: Readable) {
  await ctx.steps.once(
    `asset:${asset.id}`,
    async () => ({
      id: await ctx.pacer.writeOnce(() =>
        ctx.writer.uploadAsset(
          ctx.target,
          releaseId,
          {
            name: asset.name,
            label: asset.label ?? null,
            contentType: asset.content_type ?? "application/octet-stream",
            size: asset.size,
          },
          body,
        ),
      ),
    }),
    async () => {
      // A run stopped mid-upload may leave a broken asset of that name: it goes, and the upload runs again.
      const release = (await ctx.writer.releases(ctx.target)).find((r) => r.id === releaseId);
      const there = release?.assets.find((a) => a.name === asset.name);
      if (there?.state === "uploaded" && there.size === asset.size) {
        body.resume();
        return { id: there.id };
      }
      if (there) await ctx.writer.deleteAsset(ctx.target, there.id);
      return undefined;
    },
  );
}
