// GitHub's inventory webhooks (installation, installation_repositories, repository) read into the
// core's InventoryEvent: only the fields used, each checked by zod, a bad one named in a 400.
import { z } from "zod";
import { repoNameSchema } from "../../core/ids.js";
import type { InventoryEvent, RepositoryRef } from "../../core/lineage/events.js";
import { WebhookError } from "./errors.js";

export const INVENTORY_EVENTS: ReadonlySet<string> = new Set([
  "installation",
  "installation_repositories",
  "repository",
]);

const id = z.number().int().positive();
const repo = z.object({ id, full_name: repoNameSchema });
const installation = z.object({ id });
const login = z.object({ login: z.string().min(1) });

const installationPayload = z.object({
  action: z.string(),
  installation,
  repositories: z.array(repo).optional(),
});
const installationReposPayload = z.object({
  action: z.string(),
  installation,
  repositories_added: z.array(repo).default([]),
  repositories_removed: z.array(repo).default([]),
});
const repositoryPayload = z.object({
  action: z.string(),
  repository: repo.extend({ archived: z.boolean().optional() }),
  installation: installation.optional(),
});
const renamedChanges = z.object({
  changes: z.object({ repository: z.object({ name: z.object({ from: z.string().min(1) }) }) }),
});
const transferredChanges = z.object({
  changes: z.object({
    owner: z.object({
      from: z.union([z.object({ organization: login }), z.object({ user: login })]),
    }),
  }),
});

/**
 * The inventory change a delivery of `event` says, or a string saying why it changes nothing we
 * keep. A `repository` action that is not an inventory change (edited…) is "metadata": its
 * settings changed, so it asks for a snapshot like the other metadata events.
 */
export function parseInventoryEvent(event: string, json: unknown): InventoryEvent | "metadata" | string {
  if (event === "installation") {
    const p = parse(installationPayload, json, event);
    const repos = (p.repositories ?? []).map(ref);
    const installationId = p.installation.id;
    if (p.action === "created") return { kind: "appeared", repos, why: "installed", installationId };
    if (p.action === "unsuspend") return { kind: "appeared", repos, why: "unsuspended", installationId };
    if (p.action === "deleted") return { kind: "detached", why: "the App was uninstalled", installationId };
    if (p.action === "suspend")
      return { kind: "detached", why: "the App's installation was suspended", installationId };
    return `installation ${p.action}: nothing to do`;
  }
  if (event === "installation_repositories") {
    const p = parse(installationReposPayload, json, event);
    if (p.action === "added")
      return {
        kind: "appeared",
        repos: p.repositories_added.map(ref),
        why: "added",
        installationId: p.installation.id,
      };
    if (p.action === "removed")
      return {
        kind: "detached",
        repos: p.repositories_removed.map(ref),
        why: "removed from the App's installation",
        installationId: p.installation.id,
      };
    return `installation_repositories ${p.action}: nothing to do`;
  }
  const p = parse(repositoryPayload, json, event);
  const target = ref(p.repository);
  const installationId = p.installation ? { installationId: p.installation.id } : {};
  const [owner, name] = target.name.split("/") as [string, string];
  switch (p.action) {
    case "created":
      return { kind: "appeared", repos: [target], why: "created", ...installationId };
    case "renamed": {
      const from = parse(renamedChanges, json, event).changes.repository.name.from;
      return { kind: "renamed", repo: target, from: `${owner}/${from}`, how: "renamed", ...installationId };
    }
    case "transferred": {
      const was = parse(transferredChanges, json, event).changes.owner.from;
      const fromOwner = "organization" in was ? was.organization.login : was.user.login;
      return {
        kind: "renamed",
        repo: target,
        from: `${fromOwner}/${name}`,
        how: "transferred",
        ...installationId,
      };
    }
    case "archived":
    case "unarchived":
      return { kind: "archived", repo: target, archived: p.action === "archived", ...installationId };
    case "publicized":
    case "privatized":
      return { kind: "changed", repo: target, what: p.action, ...installationId };
    case "deleted":
      return { kind: "deleted", repo: target };
    default:
      return "metadata";
  }
}

function ref(repo: { id: number; full_name: string }): RepositoryRef {
  return { id: repo.id, name: repo.full_name };
}

function parse<S extends z.ZodType>(schema: S, json: unknown, event: string): z.infer<S> {
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`);
  throw new WebhookError(400, `invalid ${event} payload: ${problems.join("; ")}`);
}
