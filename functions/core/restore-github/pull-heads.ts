// The commits of pull requests whose branches are gone live only under refs/pull/N/head, which
// GitHub takes no push to. The code step pushes them as refs/restored/pull/N/head (outside branches
// and tags: no branch list shows them), so the items step can make a `restored/pr-N` branch of any
// of them through the API. They may be deleted once the restore is done.
import { git } from "../git/exec.js";
import { GitError } from "../errors.js";
import type { GitRemote } from "../ports.js";

export const RESTORED_PULL_PREFIX = "refs/restored/pull/";

/** The snapshot's pull request heads, renamed: local ref -> ref on the target. */
export function pullHeadRefspecs(refs: Readonly<Record<string, string>>): string[] {
  return Object.keys(refs)
    .filter((name) => /^refs\/pull\/\d+\/head$/.test(name))
    .sort()
    .map((name) => `${name}:${RESTORED_PULL_PREFIX}${name.slice("refs/pull/".length)}`);
}

/** Pushes them (credentials through GIT_CONFIG_* as the code push does: no argv, no URL). */
export async function pushPullHeads(
  repoDir: string,
  remote: GitRemote,
  refs: Readonly<Record<string, string>>,
): Promise<number> {
  const refspecs = pullHeadRefspecs(refs);
  if (!refspecs.length) return 0;
  const env: Record<string, string> = { GIT_DIR: repoDir };
  const headers = Object.entries(remote.headers ?? {});
  headers.forEach(([name, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = "http.extraHeader";
    env[`GIT_CONFIG_VALUE_${i}`] = `${name}: ${value}`;
  });
  env.GIT_CONFIG_COUNT = String(headers.length);
  try {
    await git(["push", "--porcelain", remote.url, ...refspecs], { env, userConfig: headers.length === 0 });
  } catch (err) {
    throw new GitError(`push of ${refspecs.length} pull request heads failed: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return refspecs.length;
}
