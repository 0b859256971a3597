// Snapshot ids and repository names. Ids sort by time, so listing a prefix is chronological.
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { UserInputError } from "./errors.js";

/** "20261127T104455123Z-1a2b3c4d": UTC time to the millisecond plus 32 random bits. */
export function newSnapshotId(at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, "").replace(".", "");
  return `${stamp}-${randomBytes(4).toString("hex")}`;
}

const REPO_NAME = /^[A-Za-z0-9_.-]+\/([A-Za-z0-9_.-]+|@org)$/;

/**
 * The name an organization's own snapshots are filed under, as if it were a repository:
 * "<org>/@org". GitHub allows only letters, digits, ".", "_" and "-" in a repository's name, so no
 * real repository can take it, and it has no registry record (no GitHub id), so no lineage leads
 * there either.
 */
export const ORG_PSEUDO_REPO = "@org";

/** "<org>/@org": where `org`'s own snapshots (teams, rulesets, projects…) are filed. */
export function orgRepoName(org: string): string {
  return assertRepoName(`${org}/${ORG_PSEUDO_REPO}`);
}

/** The organization whose pseudo-repository `repo` is, or undefined for a real repository. */
export function orgOfRepo(repo: string): string | undefined {
  const [owner, name] = repo.split("/");
  return name === ORG_PSEUDO_REPO ? owner : undefined;
}

/**
 * The organizations owning the listed repositories, each once, sorted: whose own snapshots are
 * taken. A user account has none, nor an owner the host does not describe (a configured source).
 */
export function organizationsOf(repos: readonly { name: string; ownerType?: string }[]): string[] {
  const orgs = repos.filter((repo) => repo.ownerType === "Organization");
  return [...new Set(orgs.map((repo) => repo.name.split("/")[0]!))].sort();
}

/** Whether `repo` is an "owner/name" repository name (no "." or ".." part), or an org's "<org>/@org". */
export function isRepoName(repo: string): boolean {
  return REPO_NAME.test(repo) && !repo.split("/").some((part) => part === "." || part === "..");
}

/** A zod string for a repository name, for every schema that carries one. */
export const repoNameSchema = z.string().refine(isRepoName, 'expected "owner/name" (letters, digits, . _ -)');

/** Checks an "owner/name" repository name, the key of everything stored for it. */
export function assertRepoName(repo: string): string {
  if (!isRepoName(repo)) {
    throw new UserInputError(
      `repository name ${JSON.stringify(repo)} must look like "owner/name" (letters, digits, . _ -)`,
    );
  }
  return repo;
}
