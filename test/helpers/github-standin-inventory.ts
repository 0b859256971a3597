// The GitHub stand-in's inventory side: rename, transfer and delete a repository as GitHub does
// (same id, git data moved with it), and the signed webhook deliveries GitHub sends for each.
import { createHmac, randomUUID } from "node:crypto";
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { GitHubStandin } from "./github-standin.js";

/** A delivery as GitHub sends it: the body's bytes and headers signed with the App's webhook secret. */
export interface SignedDelivery {
  headers: Record<string, string>;
  rawBody: Buffer;
}

export function signedDelivery(secret: string, event: string, payload: unknown): SignedDelivery {
  const rawBody = Buffer.from(JSON.stringify(payload), "utf8");
  return {
    rawBody,
    headers: {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(rawBody).digest("hex")}`,
    },
  };
}

/** Stand-in repositories and their git data in `gitRoot` ("<owner>/<name>.git"), changed as on GitHub. */
export class StandinInventory {
  constructor(
    private readonly github: GitHubStandin,
    private readonly gitRoot: string,
  ) {}

  /** Renames (same owner) or transfers (another owner) `from` to `to`; the webhook payload GitHub sends. */
  async move(from: string, to: string): Promise<{ event: "repository"; payload: Record<string, unknown> }> {
    const [fromOwner, fromName] = from.split("/") as [string, string];
    const target = join(this.gitRoot, `${to}.git`);
    await mkdir(dirname(target), { recursive: true });
    await rename(join(this.gitRoot, `${from}.git`), target);
    const repository = this.github.moveRepo(from, to);
    const transferred = fromOwner.toLowerCase() !== repository.owner.login.toLowerCase();
    const installation = this.installation(repository.owner.login);
    const payload = transferred
      ? {
          action: "transferred",
          repository,
          changes: { owner: { from: { organization: { login: fromOwner } } } },
        }
      : { action: "renamed", repository, changes: { repository: { name: { from: fromName } } } };
    return { event: "repository", payload: { ...payload, ...installation } };
  }

  /** Deletes the repository and its git data; the `repository deleted` payload GitHub sends. */
  async remove(fullName: string): Promise<{ event: "repository"; payload: Record<string, unknown> }> {
    const repository = this.github.repository(fullName);
    this.github.removeRepo(fullName);
    await rm(join(this.gitRoot, `${fullName}.git`), { recursive: true, force: true });
    const installation = this.installation(repository.owner.login);
    return { event: "repository", payload: { action: "deleted", repository, ...installation } };
  }

  private installation(owner: string): { installation?: { id: number } } {
    const id = this.github.installationOf(owner);
    return id === undefined ? {} : { installation: { id } };
  }
}
