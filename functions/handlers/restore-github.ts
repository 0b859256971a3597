// restoreRepo's github target: the restore to GitHub use case (core/restore-github/) and its answer.
// Calling it again with the same body continues a restore that stopped (a function timeout).
import type { CloudApp } from "../app.js";
import type { RestoreRequestBody } from "../core/messages.js";
import { restoreToGitHub } from "../core/restore-github/restore-to-github.js";
import { log } from "../log.js";

export async function restoreToGitHubAnswer(
  app: CloudApp,
  request: RestoreRequestBody & { target: { kind: "github" } },
  actor: string,
): Promise<Record<string, unknown>> {
  const outcome = await restoreToGitHub(
    { ...app, github: app.githubRestore },
    {
      repo: request.repo,
      snapshotId: request.snapshotId,
      at: request.at,
      target: request.target.name,
      ...(request.target.intoExistingEmpty ? { intoExistingEmpty: true } : {}),
      // private (the default): created and kept private; else the original's visibility.
      ...(request.target.private ? { settings: { visibility: "private" as const } } : {}),
    },
    { actor },
  );
  log("NOTICE", `restored ${request.repo} snapshot ${outcome.snapshot.id} to github:${outcome.target}`, {
    event: "restore_completed",
    repo: request.repo,
    snapshotId: outcome.snapshot.id,
  });
  const { snapshot, mapping: _mapping, ...rest } = outcome;
  return {
    ok: true,
    repo: request.repo,
    snapshot: { id: snapshot.id, takenAt: snapshot.takenAt, confirmedAt: snapshot.confirmedAt },
    ...rest,
    target: `github:${outcome.target}`,
  };
}
