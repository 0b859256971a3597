// SourceHost over the `sources:` list of backup-config.yaml: repositories named by hand, read
// from a path or URL with no credentials.
import { isAbsolute, resolve } from "node:path";
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
    return { url: this.resolveUrl(repo.url) };
  }

  private resolveUrl(url: string): string {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) || isAbsolute(url)) return url;
    return resolve(this.baseDir, url);
  }
}
