// restoreRepo's github target: the restore to GitHub use case (core/restore-github/) and its answer.
// The run stops at cloud.restoreDeadlineSeconds and hands the rest to the Cloud Run job (a code push
// expected to take longer goes there at once); the answer is then 202 with the progress so far, and
// GET restoreRepo with the same fields reports how the restore stands (the journal's outcome).
import type { CloudApp } from "../app.js";
import type { RestoreRequestBody } from "../core/messages.js";
import { readOutcome } from "../core/restore-github/outcome.js";
import { restoreIdOf } from "../core/restore-github/restore-to-github.js";
import { runRestore } from "../core/restore-github/run.js";
import { chooseSnapshot } from "../core/restore.js";
import { logRestoreRun } from "../restore-log.js";

type GitHubRequest = RestoreRequestBody & { target: { kind: "github" } };

export async function restoreToGitHubAnswer(
  app: CloudApp,
  request: GitHubRequest,
  actor: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const { cloud } = app.settings.backup;
  const run = {
    repo: request.repo,
    ...(request.snapshotId ? { snapshotId: request.snapshotId } : {}),
    ...(request.at ? { snapshotAt: request.at } : {}),
    target: request.target.name,
    private: request.target.private,
    ...(request.target.intoExistingEmpty ? { intoExistingEmpty: true } : {}),
    requestedBy: actor,
    handoffs: 0,
  };
  const result = await runRestore({ ...app, github: app.githubRestore }, run, {
    runSeconds: cloud.restoreDeadlineSeconds,
    continueOn: "snapshot-large",
    pushBytesPerSecond: cloud.restorePushBytesPerSecond,
  });
  logRestoreRun(run, result);
  if (result.state === "continuing")
    return {
      status: 202,
      body: {
        ok: true,
        state: "continuing",
        repo: request.repo,
        snapshot: { id: result.snapshotId },
        target: `github:${request.target.name}`,
        handedTo: "snapshot-job",
        ...result.progress,
        note: result.note,
      },
    };
  const { snapshot, mapping: _mapping, ...rest } = result.outcome;
  return {
    status: 200,
    body: {
      ok: true,
      state: "restored",
      repo: request.repo,
      snapshot: { id: snapshot.id, takenAt: snapshot.takenAt, confirmedAt: snapshot.confirmedAt },
      ...rest,
      target: `github:${result.outcome.target}`,
    },
  };
}

/** How a restore to GitHub stands: the outcome its last run wrote, or "none" when no run has ended. */
export async function restoreToGitHubStatus(
  app: CloudApp,
  request: GitHubRequest,
): Promise<Record<string, unknown>> {
  const snapshot = await chooseSnapshot(app, request);
  const outcome = await readOutcome(app.githubRestore.journal, restoreIdOf(request.target.name, snapshot.id));
  return {
    ok: outcome?.state !== "failed",
    repo: request.repo,
    snapshot: { id: snapshot.id, takenAt: snapshot.takenAt },
    target: `github:${request.target.name}`,
    ...(outcome ?? { state: "none" }),
  };
}
