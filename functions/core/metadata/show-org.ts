// What an organization's own snapshot ("<org>/@org") holds, view by view, without restoring
// anything: its settings, members, teams (with members and repository permissions), rulesets,
// projects (with their fields) and project items, and each kind's state.
import type { Deps } from "../deps.js";
import { chooseSnapshot } from "../restore.js";
import { ORG_KINDS, type OrgKind } from "./kinds.js";
import { readMetadata, type KindState, type MetadataLine } from "./read.js";

/** The views of `show --org O …`, and the kind each reads. */
export const ORG_VIEWS = {
  settings: "org",
  members: "org-members",
  teams: "org-teams",
  rulesets: "org-rulesets",
  projects: "org-projects",
  items: "org-project-items",
} as const satisfies Record<string, OrgKind>;

export type OrgView = keyof typeof ORG_VIEWS | "kinds";

export interface OrgShowResult {
  repo: string;
  what: OrgView;
  snapshot: { id: string; takenAt: string };
  /** For a kind's view: its state and lines; for "kinds": every org kind's state and count. */
  state?: KindState;
  items?: MetadataLine[];
  kinds?: { kind: OrgKind; state: KindState; items?: number }[];
}

/** The view of the chosen snapshot of `repo` ("<org>/@org"). Rejects with NotFoundError. */
export async function showOrg(
  deps: Pick<Deps, "store" | "keys" | "index" | "audit">,
  request: { repo: string; snapshotId?: string; at?: string; what: OrgView },
  options: { actor: string },
): Promise<OrgShowResult> {
  const snapshot = await chooseSnapshot(deps, request);
  const kinds = request.what === "kinds" ? ORG_KINDS : [ORG_VIEWS[request.what]];
  const result = await readMetadata(
    deps,
    snapshot,
    { kinds },
    { actor: options.actor, purpose: `show org ${request.what}` },
  );
  const head = {
    repo: snapshot.repo,
    what: request.what,
    snapshot: { id: snapshot.id, takenAt: snapshot.takenAt },
  };
  if (request.what === "kinds")
    return {
      ...head,
      kinds: ORG_KINDS.map((kind) => ({
        kind,
        state: result.kinds[kind],
        ...(result.kinds[kind].state === "present" ? { items: result.lines[kind]?.length ?? 0 } : {}),
      })),
    };
  const kind = ORG_VIEWS[request.what];
  return { ...head, state: result.kinds[kind], items: result.lines[kind] ?? [] };
}
