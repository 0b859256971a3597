// `infinity-backup cost`: what is stored per storage class and retention tier, what it costs a month at
// the price table's list prices, and how storage and cost develop over a year under the policy.
import { runDaysIn30Days, runsIn30Days } from "../../config/cron-runs.js";
import { newObjectClass } from "../../app.js";
import { retentionSource } from "../../config/settings.js";
import type { AuditEntry } from "../../core/audit-chain.js";
import { projectYear, summarizeStorage, type ProjectedSnapshot, type StoredObject } from "../../core/cost.js";
import type { AuditReader } from "../../core/ports.js";
import { planPrune, type RepoPrunePlan } from "../../core/prune-plan.js";
import type { Snapshot } from "../../core/model.js";
import {
  monthlyReadCost,
  readsInTrail,
  newestSnapshotReads,
  scheduledDrills,
  verificationsAhead,
  type ArchiveRead,
  type RepoReads,
} from "../../core/read-cost.js";
import { DEFAULT_ORPHAN_GRACE_MS, knownRepos } from "../../core/prune.js";
import { isLayerKey, layerPrefixes, repoPrefix } from "../../core/object-keys.js";
import { lineageKeyOf } from "../../core/keys/repository-keys.js";
import { layersNeeded, layerTiers, unneededTier } from "../../core/layers/usage.js";
import type { BlobInfo } from "../../core/ports.js";
import type { Layer } from "../../core/model.js";
import { bar, bytes, sparkline, table } from "../format.js";
import { EXIT, type Context } from "../context.js";

/** Cents, or two significant digits below a cent: a small repository costs a fraction of one. */
export function money(amount: number, currency: string): string {
  const text =
    amount === 0 || Math.abs(amount) >= 0.01 ? amount.toFixed(2) : String(Number(amount.toPrecision(2)));
  return `${text} ${currency}`;
}

export async function costCommand(ctx: Context): Promise<number> {
  const { app, options } = ctx;
  const now = app.clock.now();
  const policy = app.settings.retention;
  const policySource = retentionSource(app.settings);
  const { pricing, pricingSource: priceSource } = app.settings;
  const stored: StoredObject[] = [];
  const histories: ProjectedSnapshot[][] = [];
  const month = new Date(now.getTime() - 30 * DAY_MS).toISOString();
  const trailReads = readsInTrail(await trailEntries(app.auditTrail, month), month);
  // A cron it cannot read: one sweep a day, as the default schedule runs it.
  const sweepDays =
    runDaysIn30Days(app.settings.schedule.verifySweep, now) ??
    Array.from({ length: 30 }, (_, k) => ({ day: new Date(now.getTime() + k * DAY_MS), runs: 1 }));
  const { afterBackup, level } = app.settings.backup.verify;
  const repoReads: RepoReads[] = [];
  const repos = options.repo.length ? options.repo : await knownRepos(app);
  const listed = new Map<string, Snapshot[]>();
  for (const repo of repos) listed.set(repo, await app.index.list(repo));
  // A drill samples among every repository with a snapshot, whichever ones this report covers.
  const drillPool = await Promise.all(
    (await app.index.repos()).map(async (repo) => ({
      repo,
      bytes: newestSize(listed.get(repo) ?? (await app.index.list(repo)), now),
    })),
  );
  const drills = scheduledDrills(
    drillPool,
    runsIn30Days(app.settings.schedule.restoreDrill, now) ?? 30,
    app.settings.backup.drill.sample,
  );
  for (const repo of repos) {
    const snapshots = listed.get(repo) ?? [];
    const objects: BlobInfo[] = [];
    for await (const object of app.store.list(repoPrefix(repo))) objects.push(object);
    const layers = await layersOfRepo(ctx, repo, snapshots, objects);
    const byKey = new Map(objects.map((object) => [object.key, object]));
    // The dry plan says which tier each archive is kept for, and which the next prune removes.
    // Layer archives are the layer records' (as in prune): a layer is kept for its youngest reader.
    const archives = objects.filter((object) => !isLayerKey(object.key));
    const plan = planPrune({
      repo,
      snapshots,
      objects: archives,
      policy,
      now,
      orphanGraceMs: DEFAULT_ORPHAN_GRACE_MS,
    });
    const tierOf = new Map<string, string>(plan.keep.map((k) => [k.snapshot.objectKey, k.tier]));
    for (const r of plan.remove) tierOf.set(r.snapshot.objectKey, "expired");
    for (const o of plan.youngOrphans) tierOf.set(o.key, "not yet indexed");
    const layerTier = layerTiers(plan.keep, layers);
    // Keys layer records name: layer archives, and the old archives of folded snapshots (legacy records).
    const recorded = new Map(
      layers
        .filter((layer) => !layer.objectDeleted)
        .flatMap((layer) => [layer.objectKey, layer.oidsKey].map((key) => [key, layer] as const)),
    );
    for (const object of objects) {
      const layer = recorded.get(object.key);
      // A layer archive no record names is an orphan, as any other; one no kept snapshot needs is
      // retired (replaced, awaiting deletion) or expires.
      if (layer) tierOf.set(object.key, layerTier.get(layer.id) ?? unneededTier(layer));
      else if (isLayerKey(object.key)) tierOf.set(object.key, "orphan");
    }
    const trail = trailReads.get(repo) ?? { drills: 0, restores: 0 };
    const verifications = verificationsAhead({
      newest: plan.keep.find((k) => k.snapshot.takenAt <= plan.reference)?.snapshot,
      fresh: snapshots.filter((s) => s.takenAt >= month && s.takenAt <= now.toISOString()),
      afterBackup,
      level,
      sweepDays,
    });
    repoReads.push(
      newestSnapshotReads({
        own: newestChain(plan, (key) => byKey.get(key)?.size),
        layers: newestLayers(plan, layers, byKey),
        deepVerify: level === "deep",
        verifications,
        // The trail's drills are mostly the schedule's own runs: the larger count, not the sum.
        drills: Math.max(trail.drills, snapshots.length ? (drills.get(repo) ?? 0) : 0),
        restores: trail.restores,
      }),
    );
    for (const object of objects) {
      stored.push({
        bytes: object.size,
        storageClass: object.storageClass,
        tier: tierOf.get(object.key) ?? "orphan",
      });
    }
    histories.push(
      snapshots.map((s) => {
        const object = byKey.get(s.objectKey);
        const history: ProjectedSnapshot = {
          id: s.id,
          takenAt: s.takenAt,
          bytes: object?.size ?? s.size,
          storageClass: object?.storageClass,
          createdAt: object?.createdAt ?? s.takenAt,
        };
        if (s.parentId !== undefined) history.parentId = s.parentId;
        if (s.hold === true) history.hold = true;
        return history;
      }),
    );
  }
  const summary = summarizeStorage(stored, pricing);
  const projection = projectYear({
    repos: histories,
    policy,
    prices: pricing,
    now,
    newObjectClass: newObjectClass(app.settings),
  });
  const reads = monthlyReadCost(repoReads, pricing);

  if (options.json) {
    ctx.print(
      JSON.stringify(
        {
          at: now.toISOString(),
          policy: policySource,
          pricing: { source: priceSource, ...pricing },
          summary,
          reads: { assumption: READS_ASSUMPTION, ...reads },
          projection,
        },
        null,
        2,
      ),
    );
    return EXIT.ok;
  }
  const cur = pricing.currency;
  ctx.print(`Prices: ${priceSource} (${pricing.location}, list prices as of ${pricing.asOf}; check them)`);
  ctx.print(`Policy: ${policySource}\n`);
  const largest = Math.max(...summary.byClass.map((c) => c.bytes), 1);
  ctx.print(
    table(
      ["class", ">objects", ">stored", "", ">per GiB-month", ">per month"],
      summary.byClass.map((c) => [
        c.storageClass,
        String(c.objects),
        bytes(c.bytes),
        bar(c.bytes / largest, 24),
        money(pricing.storage[c.storageClass], cur),
        money(c.monthlyCost, cur),
      ]),
    ),
  );
  ctx.print("");
  ctx.print(
    table(
      ["kept for", ">objects", ">stored"],
      summary.byTier.map((t) => [t.tier, String(t.objects), bytes(t.bytes)]),
    ),
  );
  ctx.print(
    `\n${summary.objects} archives, ${bytes(summary.bytes)}: about ${money(summary.monthlyCost, cur)} a month`,
  );
  ctx.print(
    `Reading everything back once (a full restore) would add ${money(summary.retrievalCost, cur)} in retrieval fees.`,
  );
  const r = reads.reads;
  ctx.print(
    `Reads a month (${READS_ASSUMPTION}): ${r.verifications} verifications, ${r.drills} drills, ` +
      `${r.restores} restores, ${bytes(Object.values(reads.bytesByClass).reduce((a, b) => a + b, 0))} read: ` +
      `about ${money(reads.monthlyCost, cur)} in retrieval fees ` +
      `(verifications ${money(reads.costByKind.verifications, cur)}, drills ${money(reads.costByKind.drills, cur)}, ` +
      `restores ${money(reads.costByKind.restores, cur)}).`,
  );

  ctx.print(`\nThe year ahead, assuming ${projection.assumption}:`);
  ctx.print(
    table(
      ["month", "date", ">archives", ">stored", ">per month"],
      projection.points.map((p, i) => [
        String(i + 1),
        p.at.slice(0, 10),
        String(p.snapshots),
        bytes(p.bytes),
        money(p.monthlyCost, cur),
      ]),
    ),
  );
  ctx.print(`stored  ${sparkline(projection.points.map((p) => p.bytes))}`);
  ctx.print(`Storage over the year: about ${money(projection.yearCost, cur)}.`);
  return EXIT.ok;
}

const DAY_MS = 86_400_000;

export const READS_ASSUMPTION =
  "each reads the newest snapshot's chain in the classes prune leaves it; verifications: one per " +
  "snapshot of the last 30 days when verify.afterBackup is on, plus schedule.verifySweep (a layered " +
  "repository's are per layer, reading its layers' oids, except the weekly full restore); drills: " +
  "schedule.restoreDrill's runs of drill.sample repositories (the largest each time, the others in " +
  "turn), or the audit trail's last 30 days if it shows more; restores: as many as the audit trail " +
  "shows in the last 30 days";

/** The size of the newest snapshot taken by `now` (what a drill picks the largest repository by). */
function newestSize(snapshots: readonly Snapshot[], now: Date): number {
  const at = now.toISOString();
  const taken = snapshots.filter((s) => s.takenAt <= at);
  return (
    taken.reduce<Snapshot | undefined>(
      (n, s) => (n === undefined || s.takenAt > n.takenAt ? s : n),
      undefined,
    )?.size ?? 0
  );
}

/** The archives a restore of the newest snapshot reads, newest first, in the classes the plan sets. */
function newestChain(plan: RepoPrunePlan, sizeOf: (key: string) => number | undefined): ArchiveRead[] {
  const reference = Date.parse(plan.reference);
  const byId = new Map(plan.keep.map((k) => [k.snapshot.id, k]));
  const chain: ArchiveRead[] = [];
  const seen = new Set<string>();
  let k = plan.keep.find((kept) => Date.parse(kept.snapshot.takenAt) <= reference);
  while (k !== undefined && !seen.has(k.snapshot.id)) {
    seen.add(k.snapshot.id);
    chain.push({ bytes: sizeOf(k.snapshot.objectKey) ?? k.snapshot.size, storageClass: k.storageClass });
    k = k.snapshot.parentId === undefined ? undefined : byId.get(k.snapshot.parentId);
  }
  return chain;
}

/**
 * The layer records of `repo`'s lineage when it has layered snapshots (none otherwise), with the
 * lineage's layer archives added to `objects` when they are filed under another prefix (a renamed
 * repository's lineage key).
 */
async function layersOfRepo(
  ctx: Context,
  repo: string,
  snapshots: readonly Snapshot[],
  objects: BlobInfo[],
): Promise<Layer[]> {
  const { app } = ctx;
  if (!app.layers || !snapshots.some((s) => s.layers !== undefined)) return [];
  const lineage = await lineageKeyOf(app.index, repo);
  // Layer archives: under layers/<lineage>/, and repos/<lineage>/layers/ of older ones (listed
  // with the repository's archives when the lineage is the repository's own name).
  for (const prefix of layerPrefixes(lineage)) {
    if (lineage === repo && prefix.startsWith(repoPrefix(repo))) continue;
    for await (const object of app.store.list(prefix)) objects.push(object);
  }
  return app.layers.layers(lineage);
}

/**
 * The layer archives of the newest kept snapshot's resolved layers: a restore reads their packs and
 * oids, a per-layer verification only the oids of the layers verified before.
 */
function newestLayers(
  plan: RepoPrunePlan,
  layers: readonly Layer[],
  byKey: ReadonlyMap<string, BlobInfo>,
): { pack: ArchiveRead; oids: ArchiveRead }[] {
  const reference = Date.parse(plan.reference);
  const newest = plan.keep.find((kept) => Date.parse(kept.snapshot.takenAt) <= reference);
  if (newest === undefined || layers.length === 0) return [];
  const read = (key: string): ArchiveRead => ({
    bytes: byKey.get(key)?.size ?? 0,
    storageClass: byKey.get(key)?.storageClass,
  });
  return [...layersNeeded([newest.snapshot], layers).values()].map((layer) => ({
    pack: read(layer.objectKey),
    oids: read(layer.oidsKey),
  }));
}

/** The trail's drills and restores since `since`, when the app keeps a trail it can read back. */
async function trailEntries(trail: AuditReader | undefined, since: string): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  if (trail === undefined) return entries;
  for await (const stored of trail.stored()) {
    const entry = stored.value as Partial<AuditEntry> | undefined;
    if (
      typeof entry?.action === "string" &&
      /^(drill|restore)\./.test(entry.action) &&
      typeof entry.at === "string" &&
      entry.at >= since &&
      typeof entry.actor === "string"
    )
      entries.push(entry as AuditEntry);
  }
  return entries;
}
