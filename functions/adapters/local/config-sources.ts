// SourceHost over the `sources:` list of backup-config.yaml: repositories named by hand, read
// from a path or URL with no credentials.
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runGit } from "../../core/git/exec.js";
import type { SourceRepo } from "../../core/model.js";
import type { GitRemote, SourceHost } from "../../core/ports.js";

export class ConfigSourceHost implements SourceHost {
  /** `baseDir` anchors relative paths (the folder the config file belongs to). */
  constructor(
    private readonly sources: readonly (SourceRepo & { wiki?: string })[],
    private readonly baseDir: string,
  ) {}

  async listRepos(): Promise<SourceRepo[]> {
    return this.sources.map(({ name, url, wiki }) => ({
      name,
      url: this.resolveUrl(url),
      ...(wiki ? { wikiUrl: this.resolveUrl(wiki) } : {}),
    }));
  }

  async getRepo(name: string): Promise<SourceRepo | undefined> {
    return (await this.listRepos()).find((repo) => repo.name === name);
  }

  async gitRemote(repo: SourceRepo): Promise<GitRemote> {
    const url = this.resolveUrl(repo.url);
    // A repository on this machine can say whether it uses LFS; another host cannot (scan).
    const local = /^file:\/\//i.test(url) ? fileURLToPath(url) : isAbsolute(url) ? url : undefined;
    return { url, ...(local ? { usesLfs: () => localUsesLfs(local) } : {}) };
  }

  private resolveUrl(url: string): string {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) || isAbsolute(url)) return url;
    return resolve(this.baseDir, url);
  }
}

/** HEAD's .gitattributes names the LFS filter; undefined when git cannot read the repository. */
async function localUsesLfs(gitDir: string): Promise<boolean | undefined> {
  const { code, stdout, stderr } = await runGit(["cat-file", "-p", "HEAD:.gitattributes"], {
    env: { GIT_DIR: gitDir },
  });
  if (code === 0) return /filter\s*=\s*lfs/.test(stdout);
  // "does not exist in 'HEAD'" (no such file) or an empty repository: no LFS; anything else: unknown.
  return /does not exist|invalid object name|not a valid object name/i.test(stderr) ? false : undefined;
}
