// How far V8 lets this process's heap grow past what is live before it collects. By default V8
// grows the old generation's limit up to 4x the live heap after each full collection when the
// process may use a large heap (a machine with gigabytes free), so a long run that allocates much
// and keeps little (a metadata snapshot parsing thousands of API pages) ends with a heap of mostly
// garbage: 66 MiB used at the peak for 20 MiB live at 5,000 issues (bench/README.md). Every use
// case here streams and keeps little, so a lower factor costs a few more short collections and
// keeps peak RSS from growing with the length of the run. Set by the wiring, like the TLS policy.
import { setHeapPolicyPercent } from "./core/heap-room.js";

/** The old generation may grow to (1 + this/100) times the live heap before the next full collection. */
export const HEAP_GROWING_PERCENT = 25;

let applied = false;

export function applyHeapPolicy(): void {
  if (applied) return;
  applied = true;
  // git byte streams get more room while they run (core/heap-room.ts).
  setHeapPolicyPercent(HEAP_GROWING_PERCENT);
}
