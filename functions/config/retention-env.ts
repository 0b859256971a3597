// The retention policy prune runs with: config/retention-policy.yaml beside the backup config (the
// promise's defaults when there is none), then RETENTION_DAYS from the environment (product brief).
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { UserInputError } from "../core/errors.js";
import { isRepoName } from "../core/ids.js";
import {
  DEFAULT_RETENTION_POLICY,
  loadRetentionPolicy,
  parseDuration,
  type RetentionPolicy,
} from "../core/retention-policy.js";

export const RETENTION_POLICY_FILE = "retention-policy.yaml";

/**
 * RETENTION_DAYS, when set, replaces the daily window ("keep the newest snapshot of each day for N
 * days"). An empty value counts as unset; anything but a whole number of 1 or more is refused by name.
 */
export function applyRetentionEnv(policy: RetentionPolicy, env: NodeJS.ProcessEnv): RetentionPolicy {
  return applyRetentionDays(applyLegalHolds(policy, env), env);
}

/** LEGAL_HOLD_REPOS: comma-separated "owner/name"s added to the policy's holdRepos. */
function applyLegalHolds(policy: RetentionPolicy, env: NodeJS.ProcessEnv): RetentionPolicy {
  const names = (env.LEGAL_HOLD_REPOS ?? "")
    .split(",")
    .map((n) => n.trim())
    .filter(Boolean);
  if (!names.length) return policy;
  const bad = names.find((n) => !isRepoName(n));
  if (bad) throw new UserInputError(`LEGAL_HOLD_REPOS: ${JSON.stringify(bad)} is not "owner/name"`);
  return { ...policy, holdRepos: [...new Set([...(policy.holdRepos ?? []), ...names])] };
}

function applyRetentionDays(policy: RetentionPolicy, env: NodeJS.ProcessEnv): RetentionPolicy {
  const raw = env.RETENTION_DAYS;
  if (raw === undefined || raw.trim() === "") return policy;
  const problem = (cause?: unknown) =>
    new UserInputError(
      `RETENTION_DAYS=${JSON.stringify(raw)}: expected a whole number of days, 1 or more ` +
        `(how long the newest snapshot of each day is kept)`,
      { cause },
    );
  const text = raw.trim();
  if (!/^\d+$/.test(text) || Number(text) < 1) throw problem();
  try {
    return { ...policy, daily: parseDuration(`${Number(text)}d`) };
  } catch (err) {
    throw problem(err); // beyond the longest duration a policy accepts
  }
}

/** The policy for the deployment whose backup config is `configFile`, and a line saying where it came from. */
export async function loadPrunePolicy(
  configFile: string,
  env: NodeJS.ProcessEnv,
): Promise<{ policy: RetentionPolicy; source: string }> {
  const file = join(dirname(configFile), RETENTION_POLICY_FILE);
  let policy = DEFAULT_RETENTION_POLICY;
  let source = "built-in default policy";
  try {
    policy = loadRetentionPolicy(await readFile(file, "utf8"), file);
    source = file;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ENOENT") {
      if (err instanceof UserInputError) throw err;
      throw new UserInputError(`${file}: cannot read (${code})`, { cause: err });
    }
  }
  const days = env.RETENTION_DAYS?.trim();
  return {
    policy: applyRetentionEnv(policy, env),
    source: days ? `${source}, daily ${days}d from RETENTION_DAYS` : source,
  };
}
