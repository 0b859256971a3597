// One collection of an organization's own metadata (ORG_KINDS): its settings and members, its teams
// with their members and repository permissions, its rulesets (REST), and its Projects (v2) with
// their fields and items (GraphQL). Each kind is read whole; one the App may not read (403, a
// GraphQL FORBIDDEN) is recorded unavailable with GitHub's reason and the rest goes on.
import { RepositoryNotFoundError } from "../../core/errors.js";
import { jsonlStream } from "../../core/metadata/jsonl.js";
import { ORG_KINDS, type OrgKind } from "../../core/metadata/kinds.js";
import { sortedUnique } from "../../core/metadata/order.js";
import type { KindOutcome } from "../../core/metadata/outcome.js";
import { kindPath } from "../../core/metadata/paths.js";
import type { OrgMetadataSummary } from "../../core/metadata/org-source.js";
import type { ArchiveFile } from "../../core/archive/writer.js";
import { graphql } from "./metadata-graphql.js";
import { PER_PAGE, Unavailable, type RepoApi } from "./metadata-http.js";
import { memberLine, orgLine, orgRulesetLine, teamLine, teamRepoLine } from "./metadata-lines-org.js";
import { parseList, parseOne } from "./metadata-parse.js";
import { MetadataFormatError } from "../../core/metadata/errors.js";
import type { z } from "zod";

type Line = Record<string, unknown>;

export class OrgCollection {
  private readonly outcomes = {} as Record<OrgKind, KindOutcome>;
  /** Project numbers read in org-projects: whose items org-project-items reads. */
  private projectNumbers: number[] = [];

  constructor(
    private readonly api: RepoApi,
    private readonly org: string,
  ) {}

  private get base(): string {
    return `/orgs/${encodeURIComponent(this.org)}`;
  }

  /** Every kind's file, in ORG_KINDS order; each one's lines are read before its file is handed out. */
  async *files(): AsyncGenerator<ArchiveFile> {
    for (const kind of ORG_KINDS) {
      let lines: Line[];
      try {
        lines = await this.read(kind);
      } catch (err) {
        if (!(err instanceof Unavailable)) throw err;
        if (kind === "org" && err.status === 404)
          throw new RepositoryNotFoundError(
            `organization ${this.org}: no such organization on GitHub, or the App is not installed on it`,
          );
        this.outcomes[kind] = { state: "unavailable", reason: err.reason, status: err.status };
        continue;
      }
      const sorted = sortedUnique(kind, lines);
      this.outcomes[kind] = { state: "full", items: sorted.length };
      yield { path: kindPath(kind), open: () => jsonlStream(sorted) };
    }
  }

  summary(): OrgMetadataSummary {
    return { kinds: { ...this.outcomes }, requests: { ...this.api.counts } };
  }

  private what(kind: OrgKind): string {
    return `reading ${kind} of organization ${this.org}`;
  }

  private read(kind: OrgKind): Promise<Line[]> {
    switch (kind) {
      case "org":
        return this.settings();
      case "org-members":
        return this.members(`${this.base}/members`, ["admin", "member"], kind);
      case "org-teams":
        return this.teams();
      case "org-rulesets":
        return this.rulesets();
      case "org-projects":
        return this.projects();
      case "org-project-items":
        return this.projectItems();
    }
  }

  private async settings(): Promise<Line[]> {
    const answer = (await this.api.get(this.base, { what: this.what("org") }))!;
    return [parseOne(answer, orgLine, this.what("org"))];
  }

  /** Every page of a REST list, each item parsed by `schema`. */
  private async list<S extends z.ZodType>(first: string, schema: S, what: string): Promise<z.output<S>[]> {
    const all: z.output<S>[] = [];
    const sep = first.includes("?") ? "&" : "?";
    for await (const answer of this.api.pages(`${first}${sep}per_page=${PER_PAGE}`, what))
      all.push(...parseList(answer, schema, what));
    return all;
  }

  /** Members by role, one listing per role (the lists do not say the role themselves). */
  private async members(path: string, roles: string[], kind: OrgKind): Promise<Line[]> {
    const lines: Line[] = [];
    for (const role of roles)
      for (const member of await this.list(`${path}?role=${role}`, memberLine, this.what(kind)))
        lines.push({ ...member, role });
    return lines;
  }

  private async teams(): Promise<Line[]> {
    const what = this.what("org-teams");
    const teams = await this.list(`${this.base}/teams`, teamLine, what);
    const lines: Line[] = [];
    for (const team of teams) {
      const path = `${this.base}/teams/${encodeURIComponent(team.slug)}`;
      const members = (await this.members(`${path}/members`, ["maintainer", "member"], "org-teams")).sort(
        (a, b) => String(a.login).localeCompare(String(b.login)),
      );
      const repositories = (await this.list(`${path}/repos`, teamRepoLine, what)).sort((a, b) =>
        a.full_name.localeCompare(b.full_name),
      );
      lines.push({ ...team, members, repositories });
    }
    return lines;
  }

  private async rulesets(): Promise<Line[]> {
    const what = this.what("org-rulesets");
    const listed = await this.list(`${this.base}/rulesets`, orgRulesetLine.pick({ id: true }), what);
    const lines: Line[] = [];
    for (const { id } of listed) {
      const answer = await this.api.get(`${this.base}/rulesets/${id}`, { what });
      if (answer) lines.push(parseOne(answer, orgRulesetLine, what));
    }
    return lines;
  }

  private async projects(): Promise<Line[]> {
    const what = this.what("org-projects");
    const lines: Line[] = [];
    let after: string | null = null;
    do {
      const data = (await graphql(this.api, PROJECTS_QUERY, { login: this.org, after }, what)) as {
        organization?: { projectsV2?: Connection } | null;
      };
      const page = data.organization?.projectsV2;
      if (!page) throw new MetadataFormatError(`${what}: GitHub's GraphQL answer has no projectsV2`);
      for (const node of page.nodes ?? []) if (node) lines.push(projectLine(node));
      after = page.pageInfo?.hasNextPage ? (page.pageInfo.endCursor ?? null) : null;
    } while (after);
    this.projectNumbers = lines.map((l) => Number(l.number));
    return lines;
  }

  private async projectItems(): Promise<Line[]> {
    // Projects the App may not read have no items it may read either, for the same reason.
    const projects = this.outcomes["org-projects"];
    if (projects?.state === "unavailable") throw new Unavailable(projects.status ?? 403, projects.reason);
    const what = this.what("org-project-items");
    const lines: Line[] = [];
    for (const number of this.projectNumbers) {
      let after: string | null = null;
      do {
        const data = (await graphql(this.api, ITEMS_QUERY, { login: this.org, number, after }, what)) as {
          organization?: { projectV2?: { items?: Connection } | null } | null;
        };
        const page = data.organization?.projectV2?.items;
        if (!page) break; // deleted since it was listed
        for (const node of page.nodes ?? []) if (node) lines.push(itemLine(number, node));
        after = page.pageInfo?.hasNextPage ? (page.pageInfo.endCursor ?? null) : null;
      } while (after);
    }
    return lines;
  }
}

interface Connection {
  nodes?: (Line | null)[];
  pageInfo?: { hasNextPage?: boolean; endCursor?: string | null };
}

const FIELD_NAME = "field { ... on ProjectV2FieldCommon { name } }";

/** 20 projects a page, each with its fields (GitHub allows 50 fields a project). */
const PROJECTS_QUERY = `query($login: String!, $after: String) {
  organization(login: $login) {
    projectsV2(first: 20, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes {
        id number title shortDescription readme public closed url createdAt updatedAt
        fields(first: 100) {
          nodes {
            __typename
            ... on ProjectV2FieldCommon { id name dataType }
            ... on ProjectV2SingleSelectField { options { id name color } }
            ... on ProjectV2IterationField { configuration { duration startDay iterations { id title startDate duration } } }
          }
        }
      }
    }
  }
}`;

/** 100 items a page of one project, each with what it is and its field values. */
const ITEMS_QUERY = `query($login: String!, $number: Int!, $after: String) {
  organization(login: $login) {
    projectV2(number: $number) {
      items(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes {
          id type isArchived createdAt updatedAt
          content {
            __typename
            ... on Issue { number title url repository { nameWithOwner } }
            ... on PullRequest { number title url repository { nameWithOwner } }
            ... on DraftIssue { title body }
          }
          fieldValues(first: 50) {
            nodes {
              __typename
              ... on ProjectV2ItemFieldTextValue { text ${FIELD_NAME} }
              ... on ProjectV2ItemFieldNumberValue { number ${FIELD_NAME} }
              ... on ProjectV2ItemFieldDateValue { date ${FIELD_NAME} }
              ... on ProjectV2ItemFieldSingleSelectValue { name optionId ${FIELD_NAME} }
              ... on ProjectV2ItemFieldIterationValue { title iterationId startDate duration ${FIELD_NAME} }
            }
          }
        }
      }
    }
  }
}`;

function projectLine(node: Line): Line {
  const fields = ((node.fields as Connection | undefined)?.nodes ?? []).filter((f): f is Line => !!f);
  return {
    number: node.number,
    id: node.id,
    title: node.title,
    short_description: node.shortDescription ?? null,
    readme: node.readme ?? null,
    public: node.public ?? null,
    closed: node.closed ?? null,
    url: node.url ?? null,
    created_at: node.createdAt ?? null,
    updated_at: node.updatedAt ?? null,
    fields: fields.map((f) => ({
      id: f.id,
      name: f.name,
      data_type: f.dataType ?? null,
      ...(f.options ? { options: f.options } : {}),
      ...(f.configuration ? { iterations: f.configuration } : {}),
    })),
  };
}

function itemLine(project: number, node: Line): Line {
  const content = (node.content ?? null) as Line | null;
  const values: Record<string, unknown> = {};
  for (const value of ((node.fieldValues as Connection | undefined)?.nodes ?? []) as (Line | null)[]) {
    const name = (value?.field as Line | undefined)?.name;
    if (!value || typeof name !== "string") continue;
    // The value's own fields: one (text, number, date) is kept bare, several (a select's name and
    // option, an iteration's title, id and dates) as an object.
    const rest = Object.fromEntries(
      Object.entries(value).filter(([key]) => key !== "__typename" && key !== "field"),
    );
    const keys = Object.keys(rest);
    values[name] = keys.length === 1 ? rest[keys[0]!] : rest;
  }
  return {
    project_number: project,
    id: node.id,
    type: node.type ?? null,
    archived: node.isArchived ?? false,
    created_at: node.createdAt ?? null,
    updated_at: node.updatedAt ?? null,
    content: content && {
      type: content.__typename,
      ...(content.number === undefined ? {} : { number: content.number }),
      title: content.title ?? null,
      ...(content.url === undefined ? {} : { url: content.url }),
      ...(content.repository ? { repository: (content.repository as Line).nameWithOwner } : {}),
      ...(content.body === undefined ? {} : { body: content.body }),
    },
    values,
  };
}
