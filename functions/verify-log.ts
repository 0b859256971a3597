// What follows a verification in the cloud, the same from verifySnapshot and the snapshot job: the
// log line (verification_failed feeds an alert policy) and the repository's incident opened or
// closed (email, webhooks).
import type { CloudApp } from "./app.js";
import { verifyAlerts, verifyChecked } from "./core/alerts.js";
import type { VerifyOutcome } from "./core/verify.js";
import { log } from "./log.js";

export async function reportVerification(
  app: Pick<CloudApp, "clock" | "notifier">,
  request: { repo: string; snapshotId: string },
  outcome: VerifyOutcome,
): Promise<void> {
  const v = outcome.verification;
  log(
    v.verdict === "ok" ? "INFO" : "ERROR",
    `verification ${v.verdict}: ${request.repo} ${request.snapshotId}${v.detail ? `: ${v.detail}` : ""}`,
    {
      event: v.verdict === "ok" ? "verification_passed" : "verification_failed",
      repo: request.repo,
      snapshotId: request.snapshotId,
      level: v.level,
      seconds: outcome.seconds,
    },
  );
  // A failed verdict opens an incident (email, webhooks); an ok one clears the repository's.
  const when = app.clock.now().toISOString();
  await app.notifier.report(verifyAlerts([outcome], when), verifyChecked([outcome]), when);
}
