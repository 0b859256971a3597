// The storage class each archive of a repository is expected to be in, from its index records alone:
// prune's class choice (storage-tiers.ts) replayed at the instants where it can change. The status
// page asks for every repository on every load, so a replay is resumed where the last one stopped
// when nothing it read has changed since (see REPLAYS).
import { z } from "zod";
import type { SnapshotSummary } from "./model.js";
import type { RetentionPolicy } from "./retention-policy.js";
import {
  chooseStorageClass,
  classRank,
  MINIMUM_STORAGE_DAYS,
  minimumDays,
  readersOf,
  RECENT_READ_DAYS,
  settledKeepUntil,
  STORAGE_CLASSES,
} from "./storage-tiers.js";

const DAY_MS = 86_400_000;
const COLDEST = STORAGE_CLASSES.length - 1;

/** Where an archive is expected to be: its class, and since when (a class change writes it anew). */
export interface ExpectedClass {
  storageClass: string;
  /** ISO-8601: takenAt, or the instant of the prune that moved it. */
  since: string;
}

/**
 * The class each snapshot's archive is expected to be in at `now`, by replaying prune's class choice
 * (storage-tiers.ts) from `newObjectClass` at the instants where it can change: each time one of the
 * snapshots' days, ISO weeks, months or years ends (a period over settles who holds it), and at `now`.
 * Daily prunes in between choose nothing colder: the time left only shrinks. Snapshots pruned since
 * are not in the index and are not replayed, and a hold counts as if it had always been set.
 */
export function expectedClasses(
  snapshots: readonly SnapshotSummary[],
  policy: RetentionPolicy,
  now: Date,
  newObjectClass: string,
): Map<string, ExpectedClass> {
  const end = now.getTime();
  const inputs = fingerprints(snapshots);
  const setting = settingOf(policy, newObjectClass);
  const key = replayKey(snapshots);
  const known = key === undefined ? undefined : REPLAYS.get(key);
  let replay: Replay;
  if (known !== undefined && canResume(known, inputs, setting, end)) {
    replayCounts.resumed++;
    // Nothing new since a last prune at `now` that moved nothing, and no instant or minimum served
    // since: a prune now moves nothing either (see Replay.quietUntil).
    if (sameSnapshots(known.inputs, inputs) && end < known.quietUntil) {
      replayCounts.quiet++;
      return new Map(known.expected);
    }
    replay = { ...known, inputs, expected: new Map(known.expected) };
    for (const s of snapshots)
      if (!replay.expected.has(s.id))
        replay.expected.set(s.id, { storageClass: newObjectClass, since: s.takenAt });
  } else {
    const expected = new Map<string, ExpectedClass>(
      snapshots.map((s) => [s.id, { storageClass: newObjectClass, since: s.takenAt }]),
    );
    replayCounts.started++;
    replay = { setting, inputs, upTo: -Infinity, expected, quietUntil: -Infinity };
  }
  for (const t of instants(snapshots, policy, replay.upTo, end))
    applyAt(snapshots, policy, t, replay.expected);
  replay.upTo = end;
  const result = new Map(replay.expected);
  const { moved, minimumServedAt } = applyAt(snapshots, policy, end, result);
  // The next instant bounds the quiet stretch too (same snapshots, so the same instants).
  const next = moved ? undefined : instants(snapshots, policy, end, Infinity)[0];
  replay.quietUntil = moved ? -Infinity : Math.min(minimumServedAt, next ?? Infinity);
  if (key !== undefined) remember(key, replay);
  return result;
}

/** The key a repository's replay is remembered by: its lineage key (undefined: no snapshot). */
export function replayKey(snapshots: readonly SnapshotSummary[]): string | undefined {
  return snapshots[0] === undefined ? undefined : (snapshots[0].lineage ?? snapshots[0].repo);
}

function settingOf(policy: RetentionPolicy, newObjectClass: string): string {
  return JSON.stringify([policy, newObjectClass]);
}

/**
 * Whether expectedClasses goes on from a remembered replay for these arguments (else it replays
 * from the repository's first snapshot). A repository without snapshots needs no replay.
 */
export function replayResumes(
  snapshots: readonly SnapshotSummary[],
  policy: RetentionPolicy,
  now: Date,
  newObjectClass: string,
): boolean {
  const key = replayKey(snapshots);
  const known = key === undefined ? undefined : REPLAYS.get(key);
  if (key === undefined) return true;
  return (
    known !== undefined &&
    canResume(known, fingerprints(snapshots), settingOf(policy, newObjectClass), now.getTime())
  );
}

/**
 * The replay remembered for `key` as text, to keep beside the index (ClassCheckpoints) so that
 * another process resumes it (adoptReplay) instead of replaying years of history; undefined when
 * this process has none.
 */
export function replayCheckpoint(key: string): string | undefined {
  const replay = REPLAYS.get(key);
  if (replay === undefined || !Number.isFinite(replay.upTo)) return undefined;
  const checkpoint: Checkpoint = {
    format: CHECKPOINT_FORMAT,
    setting: replay.setting,
    upTo: replay.upTo,
    // A quiet stretch is only ever shortened: a bound that JSON cannot hold becomes "not quiet".
    quietUntil: Number.isFinite(replay.quietUntil) ? replay.quietUntil : null,
    inputs: [...replay.inputs].map(([id, { read, at }]) => [id, read, at]),
    expected: [...replay.expected].map(([id, { storageClass, since }]) => [id, storageClass, since]),
  };
  return JSON.stringify(checkpoint);
}

/**
 * Remembers the replay in `text` (from replayCheckpoint) for `key`, in place of this process's own:
 * for a repository whose own does not resume (replayResumes, asked first by the caller). Text that
 * is not a checkpoint, or one that does not resume either, is left aside: the next call replays
 * from the start, as with no checkpoint at all.
 */
export function adoptReplay(
  key: string,
  text: string,
  snapshots: readonly SnapshotSummary[],
  policy: RetentionPolicy,
  now: Date,
  newObjectClass: string,
): boolean {
  const parsed = CheckpointSchema.safeParse(safeJson(text));
  if (!parsed.success) return false;
  const c = parsed.data;
  const replay: Replay = {
    setting: c.setting,
    upTo: c.upTo,
    quietUntil: c.quietUntil ?? -Infinity,
    inputs: new Map(c.inputs.map(([id, read, at]) => [id, { read, at }])),
    expected: new Map(c.expected.map(([id, storageClass, since]) => [id, { storageClass, since }])),
  };
  // Every snapshot it read has its class; one without would break the replay's own invariant.
  if ([...replay.inputs.keys()].some((id) => !replay.expected.has(id))) return false;
  if (!canResume(replay, fingerprints(snapshots), settingOf(policy, newObjectClass), now.getTime()))
    return false;
  remember(key, replay);
  return true;
}

/** Forgets every remembered replay: the state of a process just started (tests, benches). */
export function forgetReplays(): void {
  REPLAYS.clear();
}

const CHECKPOINT_FORMAT = 1;

const CheckpointSchema = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  setting: z.string(),
  upTo: z.number().finite(),
  quietUntil: z.number().finite().nullable(),
  inputs: z.array(z.tuple([z.string(), z.string(), z.number()])),
  expected: z.array(z.tuple([z.string(), z.string(), z.string()])),
});

type Checkpoint = z.infer<typeof CheckpointSchema>;

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The same snapshot ids, read the same (canResume compared what each read). */
function sameSnapshots(known: Replay["inputs"], inputs: Replay["inputs"]): boolean {
  return known.size === inputs.size && [...inputs.keys()].every((id) => known.has(id));
}

/**
 * A replay stopped just before an instant (`upTo`): the classes after every instant before it. It
 * goes on from there for a later `now` when the policy and new class are the same, every snapshot
 * it read is still there unchanged (takenAt, parentId, hold: what the replay reads), and every new
 * one was taken at or after `upTo` (so it was in no instant replayed, and adds none before `upTo`).
 * A prune, a hold set or lifted, or a snapshot committed late replays the repository from the start.
 */
interface Replay {
  setting: string;
  /** Per snapshot id, what the replay read of it, and its takenAt in ms. */
  inputs: Map<string, { read: string; at: number }>;
  upTo: number;
  expected: Map<string, ExpectedClass>;
  /**
   * The prune at `upTo` (the last `now`) moved nothing: until this instant, the next where a period
   * ends or an archive first serves its class's minimum, a prune moves nothing either unless a
   * snapshot is added. Between instants the time left only shrinks (a colder target never appears),
   * the readers and what is held for good are fixed, so only a minimum served can turn a stay into
   * a move. -Infinity: it moved something (each load then applies `now` again, as a fresh replay
   * would, with `now` as the move's since).
   */
  quietUntil: number;
}

/** Replays started from the first instant, and resumed: how often the page's loads replay anew. */
export const replayCounts = { started: 0, resumed: 0, quiet: 0 };

/** The last replay of each repository (by lineage key), oldest first; at most MAX_REPLAYS. */
const REPLAYS = new Map<string, Replay>();
const MAX_REPLAYS = 50_000;

function remember(key: string, replay: Replay): void {
  REPLAYS.delete(key);
  if (REPLAYS.size >= MAX_REPLAYS) REPLAYS.delete(REPLAYS.keys().next().value!);
  REPLAYS.set(key, replay);
}

/** What the replay reads of a summary, once per summary object (an index may hand the same ones back). */
const FINGERPRINTS = new WeakMap<SnapshotSummary, { read: string; at: number }>();

function fingerprints(snapshots: readonly SnapshotSummary[]): Replay["inputs"] {
  return new Map(
    snapshots.map((s) => {
      let print = FINGERPRINTS.get(s);
      if (print === undefined) {
        print = { read: JSON.stringify([s.takenAt, s.parentId, s.hold === true]), at: Date.parse(s.takenAt) };
        FINGERPRINTS.set(s, print);
      }
      return [s.id, print];
    }),
  );
}

function canResume(known: Replay, inputs: Replay["inputs"], setting: string, end: number): boolean {
  if (known.setting !== setting || end < known.upTo) return false;
  for (const [id, { read }] of known.inputs) if (inputs.get(id)?.read !== read) return false;
  for (const [id, { at }] of inputs) if (!known.inputs.has(id) && !(at >= known.upTo)) return false;
  return true;
}

/** The instants from `from` (inclusive) to `end` (exclusive) where a class may change, in order. */
function instants(
  snapshots: readonly SnapshotSummary[],
  policy: RetentionPolicy,
  from: number,
  end: number,
): number[] {
  const found = new Set<number>();
  // A day's end settles only the daily and within windows: unless one is longer than the warmest
  // minimum, what it settles stays where it was written, and skipping those instants halves the work.
  const days = [policy.daily, policy.within].some(
    (w) => w !== undefined && (w.months > 0 || w.ms > MINIMUM_STORAGE_DAYS.NEARLINE * DAY_MS),
  );
  const add = (t: number) => {
    if (t >= from && t < end) found.add(t);
  };
  for (const s of snapshots) {
    const takenAt = Date.parse(s.takenAt);
    for (const t of periodEnds(takenAt).slice(days ? 0 : 1)) add(t);
    // When it stops being a recent snapshot, what it reads may go colder.
    add(takenAt + RECENT_READ_DAYS * DAY_MS);
  }
  return [...found].sort((a, b) => a - b);
}

/**
 * One prune at `t`: each snapshot present then moves where chooseStorageClass says. Returns whether
 * one moved, and the first instant after `t` when an archive it looked at serves its class's
 * minimum (Infinity: none).
 */
function applyAt(
  snapshots: readonly SnapshotSummary[],
  policy: RetentionPolicy,
  t: number,
  expected: Map<string, ExpectedClass>,
): { moved: boolean; minimumServedAt: number } {
  const at = new Date(t);
  let moved = false;
  let minimumServedAt = Infinity;
  const present = snapshots.filter((s) => Date.parse(s.takenAt) <= t);
  if (present.length === 0) return { moved, minimumServedAt };
  // Every record still in the index was kept at every earlier instant, so `present` is what was
  // kept then (the ones the next prune removes aside).
  const newestFirst = [...present].sort((a, b) => Date.parse(b.takenAt) - Date.parse(a.takenAt));
  const readBy = readersOf(newestFirst, newestFirst[0]!.takenAt);
  // The retention plan matters only to an archive no recent snapshot reads and that is not in the
  // coldest class already (it can go nowhere colder): when there is none, it is not made.
  const planned = present.some(
    (s) => !readBy.has(s.id) && classRank(expected.get(s.id)!.storageClass) < COLDEST,
  );
  const settled = planned ? settledKeepUntil(present, policy, at) : new Map<string, string | null>();
  for (const s of present) {
    const current = expected.get(s.id)!;
    const read = readBy.get(s.id);
    if (read === undefined && !planned) continue;
    const served = Date.parse(current.since) + minimumDays(current.storageClass) * DAY_MS;
    if (served > t) minimumServedAt = Math.min(minimumServedAt, served);
    const sure = settled.get(s.id);
    const choice = chooseStorageClass({
      current: current.storageClass,
      createdAt: current.since,
      // Not kept for sure: it may go with the next snapshot, so it is treated as leaving now.
      settledUntil: sure === undefined ? at.toISOString() : sure,
      now: at,
      readBy: read,
    });
    if (choice.move && choice.storageClass !== undefined) {
      expected.set(s.id, { storageClass: choice.storageClass, since: at.toISOString() });
      moved = true;
    }
  }
  return { moved, minimumServedAt };
}

/** The starts of the UTC day, ISO week (Monday), month and year after the ones `at` falls in, in that order. */
export function periodEnds(at: number): number[] {
  const d = new Date(at);
  const [year, month, day] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()];
  const mondayBased = (d.getUTCDay() + 6) % 7;
  return [
    Date.UTC(year, month, day + 1),
    Date.UTC(year, month, day + 7 - mondayBased),
    Date.UTC(year, month + 1, 1),
    Date.UTC(year + 1, 0, 1),
  ];
}
