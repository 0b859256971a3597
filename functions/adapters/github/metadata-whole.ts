// Readers of the whole kinds: small lists read in full (every page, every per-item detail), each
// request recorded so that the next collection can ask "unchanged?" with If-None-Match only.
import type { z } from "zod";
import type { MetadataKind } from "../../core/metadata/kinds.js";
import { PER_PAGE, Unavailable, type Answer, type Recorder, type RepoApi } from "./metadata-http.js";
import {
  collaboratorLine,
  deployKeyLine,
  environmentLine,
  hookLine,
  secretNameLine,
  teamLine,
  variableLine,
} from "./metadata-lines-access.js";
import {
  autolinkLine,
  branchName,
  branchProtection,
  labelLine,
  milestoneLine,
  releaseLine,
  repositoryLine,
  rulesetId,
  rulesetLine,
} from "./metadata-lines-repo.js";
import { parseList, parseOne } from "./metadata-parse.js";

type Line = Record<string, unknown>;

interface ListKind {
  path: string;
  line: z.ZodType;
  /** The list's field when the API wraps it ({ total_count, variables: [...] }). */
  items?: string;
  /** The page size asked for (the endpoint's maximum). */
  perPage: number;
}

const LIST_KINDS: Partial<Record<MetadataKind, (repo: string) => ListKind>> = {
  autolinks: (r) => ({ path: `${r}/autolinks`, line: autolinkLine, perPage: Infinity }),
  labels: (r) => ({ path: `${r}/labels?per_page=${PER_PAGE}`, line: labelLine, perPage: PER_PAGE }),
  milestones: (r) => ({
    path: `${r}/milestones?state=all&per_page=${PER_PAGE}`,
    line: milestoneLine,
    perPage: PER_PAGE,
  }),
  releases: (r) => ({ path: `${r}/releases?per_page=${PER_PAGE}`, line: releaseLine, perPage: PER_PAGE }),
  collaborators: (r) => ({
    path: `${r}/collaborators?affiliation=all&per_page=${PER_PAGE}`,
    line: collaboratorLine,
    perPage: PER_PAGE,
  }),
  teams: (r) => ({ path: `${r}/teams?per_page=${PER_PAGE}`, line: teamLine, perPage: PER_PAGE }),
  hooks: (r) => ({ path: `${r}/hooks?per_page=${PER_PAGE}`, line: hookLine, perPage: PER_PAGE }),
  "deploy-keys": (r) => ({ path: `${r}/keys?per_page=${PER_PAGE}`, line: deployKeyLine, perPage: PER_PAGE }),
  // Actions variables page by 30 at most.
  "actions-variables": (r) => ({
    path: `${r}/actions/variables?per_page=30`,
    line: variableLine,
    items: "variables",
    perPage: 30,
  }),
  "actions-secrets": (r) => ({
    path: `${r}/actions/secrets?per_page=${PER_PAGE}`,
    line: secretNameLine,
    items: "secrets",
    perPage: PER_PAGE,
  }),
  environments: (r) => ({
    path: `${r}/environments?per_page=${PER_PAGE}`,
    line: environmentLine,
    items: "environments",
    perPage: PER_PAGE,
  }),
};

/** The path of the page after `path`'s (page=2 when it names none). */
function followingPage(path: string): string {
  const url = new URL(path, "http://api.invalid");
  url.searchParams.set("page", String(Number(url.searchParams.get("page") ?? "1") + 1));
  return url.pathname + url.search;
}

/**
 * Every item of a list. When the last page is full, the page after it (empty) is read and recorded
 * too: a new item would land there, and only a recorded page can show it as a change.
 */
async function readList(api: RepoApi, list: ListKind, what: string, record: Recorder): Promise<unknown[]> {
  const lines: unknown[] = [];
  let last: Answer | undefined;
  let lastCount = 0;
  for await (const page of api.pages(list.path, what, record)) {
    const items = parseList(page, list.line, what, list.items);
    lines.push(...items);
    [last, lastCount] = [page, items.length];
  }
  if (last && Number.isFinite(list.perPage) && lastCount >= list.perPage) {
    for await (const page of api.pages(followingPage(last.path), what, record))
      lines.push(...parseList(page, list.line, what, list.items));
  }
  return lines;
}

/** Reads `path` per item; an item gone meanwhile (404) is skipped, any other refusal is the kind's. */
async function detail(
  api: RepoApi,
  path: string,
  what: string,
  record: Recorder,
): Promise<Answer | undefined> {
  try {
    const answer = (await api.get(path, { what }))!;
    record.add(answer);
    return answer;
  } catch (err) {
    if (err instanceof Unavailable && err.status === 404) return undefined;
    throw err;
  }
}

/** Every line of a whole kind (unsorted). Throws Unavailable when the repository cannot provide it. */
export async function readWhole(
  api: RepoApi,
  kind: MetadataKind,
  repoPath: string,
  record: Recorder,
): Promise<Line[]> {
  const what = `reading ${kind} of ${api.repo}`;
  if (kind === "repository") {
    const answer = (await api.get(repoPath, { what }))!;
    record.add(answer);
    return [parseOne(answer, repositoryLine, what)];
  }
  if (kind === "branch-protections") {
    const branches = await readList(
      api,
      {
        path: `${repoPath}/branches?protected=true&per_page=${PER_PAGE}`,
        line: branchName,
        perPage: PER_PAGE,
      },
      what,
      record,
    );
    const lines: Line[] = [];
    for (const { name } of branches as { name: string }[]) {
      const answer = await detail(
        api,
        `${repoPath}/branches/${encodeURIComponent(name)}/protection`,
        what,
        record,
      );
      if (answer) lines.push({ branch: name, ...parseOne(answer, branchProtection, what) });
    }
    return lines;
  }
  if (kind === "rulesets") {
    const list = {
      path: `${repoPath}/rulesets?includes_parents=false&per_page=${PER_PAGE}`,
      line: rulesetId,
    };
    const rulesets = await readList(api, { ...list, perPage: PER_PAGE }, what, record);
    const lines: Line[] = [];
    for (const { id } of rulesets as { id: number }[]) {
      const answer = await detail(api, `${repoPath}/rulesets/${id}`, what, record);
      if (answer) lines.push(parseOne(answer, rulesetLine, what) as Line);
    }
    return lines;
  }
  const list = LIST_KINDS[kind];
  if (!list) throw new Error(`${kind} is not a whole kind`);
  return (await readList(api, list(repoPath), what, record)) as Line[];
}
