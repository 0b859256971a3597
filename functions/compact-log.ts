// The log lines of layer compaction in the cloud: the scheduled prune's hand-off to the job, and
// each run of one repository's compaction in the job (done, handed on past its deadline, skipped).
import type { CompactRun } from "./core/layers/compact-run.js";
import { log } from "./log.js";

/** pruneSnapshots handed these repositories' compactions to the Cloud Run job. */
export function logCompactionHandOff(repos: readonly string[]): void {
  if (repos.length === 0) return;
  log("INFO", `compaction of ${repos.join(", ")} handed to the snapshot job`, {
    event: "compaction_handed_over",
    repos: [...repos],
  });
}

/** One run of a repository's compaction in the job. */
export function logCompaction(repo: string, run: CompactRun & { handedOn?: true }): void {
  const merged = run.merges.length;
  if (run.skipped) {
    log("WARNING", `compaction of ${repo} skipped: ${run.skipped}`, { event: "compaction_skipped", repo });
    return;
  }
  log(
    "INFO",
    `compaction of ${repo}: ${merged} merges${run.handedOn ? ", the rest handed on to the next run" : ""}`,
    {
      event: run.handedOn ? "compaction_handed_on" : "compaction_done",
      repo,
      merges: merged,
      layers: run.merges.map((m) => m.merged),
    },
  );
}
