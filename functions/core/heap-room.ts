// Room for V8's heap while git or LFS bytes stream through this process. V8 counts the buffers
// that outlive a young collection against the old generation's limit, and starts marking the
// whole heap once the room left under that limit is no more than its young generation (16 MiB
// once grown). Under the process's heap policy (functions/heap-policy.ts: 1.25x the live heap, for
// the metadata collection's garbage) a small heap (10 MiB: the CLI, a bench worker) leaves almost
// no such room, so a pack streaming through kept V8 collecting the whole heap without pause: 29
// full collections in one git/git restore, 4 with room, and about a fifth less node CPU
// (bench/README.md). While such a stream runs the heap may grow as V8 would let it by itself;
// after, the policy is back.
import v8 from "node:v8";

/** Growth allowed while a git stream runs: V8's own largest factor (4x the live heap). */
export const STREAMING_GROWING_PERCENT = 300;

let policyPercent: number | undefined;
let streams = 0;
/** The percent this module last gave V8 (undefined: never set one). */
let applied: number | undefined;

function apply(percent: number): void {
  if (percent === applied) return;
  applied = percent;
  v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}

/** What V8's heap growing percent is now, as set here; undefined before any policy. */
export function heapGrowingPercent(): number | undefined {
  return applied;
}

/**
 * Called by the process's heap policy with its percent: until then holdHeapRoom does nothing, so
 * a process without a policy (a test) keeps V8's defaults.
 */
export function setHeapPolicyPercent(percent: number): void {
  policyPercent = percent;
  apply(streams > 0 ? STREAMING_GROWING_PERCENT : percent);
}

/**
 * Gives the heap V8's own room until the returned release is called (once). Streams may overlap
 * (a snapshot's wiki and bundle, concurrent use cases): the room stays until the last releases.
 */
export function holdHeapRoom(): () => void {
  if (policyPercent === undefined) return () => undefined;
  if (streams++ === 0) apply(STREAMING_GROWING_PERCENT);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--streams === 0 && policyPercent !== undefined) apply(policyPercent);
  };
}
