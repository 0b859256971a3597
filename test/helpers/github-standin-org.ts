// The GitHub stand-in's organization endpoints: the org's settings, members with their role, teams
// (each with members and repository permissions), org-level rulesets (REST, paged with Link
// headers), and Projects (v2) with their fields and items (GraphQL types for graphql-mini). A test
// fills an OrgMetadata; `forbidden` kinds answer 403 as GitHub does when the App lacks the
// organization permission.
import { connection, GraphqlFailure, type FieldDef } from "./graphql-mini.js";
import { paged, type MetadataContext, type Reply } from "./github-standin-metadata.js";

type ApiObject = Record<string, unknown>;

export interface OrgTeam {
  team: ApiObject;
  members: { login: string; id: number; role: "member" | "maintainer" }[];
  /** Repository objects as GET /orgs/{org}/teams/{slug}/repos lists them (with `role_name`). */
  repos: ApiObject[];
}

export interface OrgMetadata {
  settings: ApiObject;
  members: { login: string; id: number; role: "admin" | "member" }[];
  teams: OrgTeam[];
  /** Each ruleset in full, as GET /orgs/{org}/rulesets/{id} answers. */
  rulesets: ApiObject[];
  /** GraphQL-shaped ProjectV2 objects: `fields` and `items` are arrays of GraphQL-shaped nodes. */
  projects: ApiObject[];
  /** Parts the App may not read: "members", "teams", "rulesets" (403), "projects" (FORBIDDEN). */
  forbidden: Set<string>;
}

export function emptyOrg(login: string, id: number): OrgMetadata {
  return {
    settings: { login, id, node_id: `O_${id}` },
    members: [],
    teams: [],
    rulesets: [],
    projects: [],
    forbidden: new Set(),
  };
}

const FORBIDDEN: Reply = { status: 403, json: { message: "Resource not accessible by integration" } };

/** GET /orgs/{org}{rest}: the answer, or undefined for a path not served here (a 404). */
export function routeOrg(org: OrgMetadata, rest: string, url: URL, ctx: MetadataContext): Reply | undefined {
  let m: RegExpExecArray | null;
  if (rest === "") return { status: 200, json: org.settings };
  if (rest === "/members") {
    if (org.forbidden.has("members")) return FORBIDDEN;
    const role = url.searchParams.get("role") ?? "all";
    const members = org.members.filter((m) => role === "all" || m.role === role);
    return paged(
      url,
      members.map(({ login, id }) => ({ login, id, type: "User" })),
      ctx,
    );
  }
  if (rest === "/teams") {
    if (org.forbidden.has("teams")) return FORBIDDEN;
    return paged(
      url,
      org.teams.map((t) => t.team),
      ctx,
    );
  }
  if ((m = /^\/teams\/([^/]+)\/(members|repos)$/.exec(rest))) {
    if (org.forbidden.has("teams")) return FORBIDDEN;
    const team = org.teams.find((t) => t.team.slug === decodeURIComponent(m![1]!));
    if (!team) return { status: 404, json: { message: "Not Found" } };
    if (m[2] === "repos") return paged(url, team.repos, ctx);
    const role = url.searchParams.get("role") ?? "all";
    const members = team.members.filter((m) => role === "all" || m.role === role);
    return paged(
      url,
      members.map(({ login, id }) => ({ login, id, type: "User" })),
      ctx,
    );
  }
  if (rest === "/rulesets") {
    if (org.forbidden.has("rulesets")) return FORBIDDEN;
    const summaries = org.rulesets.map(({ id, name, target, source_type, source, enforcement }) => ({
      id,
      name,
      target,
      source_type,
      source,
      enforcement,
    }));
    return paged(url, summaries, ctx);
  }
  if ((m = /^\/rulesets\/(\d+)$/.exec(rest))) {
    if (org.forbidden.has("rulesets")) return FORBIDDEN;
    const ruleset = org.rulesets.find((r) => r.id === Number(m![1]));
    return ruleset ? { status: 200, json: ruleset } : { status: 404, json: { message: "Not Found" } };
  }
  return undefined;
}

const S = (type: string): FieldDef => ({ type });
const page = { first: "Int", after: "String", last: "Int", before: "String" };
const named = { id: S("ID"), name: S("String"), dataType: S("ProjectV2FieldType") };

/** The Query field `organization(login:)`, over the organizations `find` gives (undefined: not readable). */
export function organizationField(find: (login: string) => OrgMetadata | undefined): FieldDef {
  return {
    type: "Organization",
    args: { login: "String!" },
    resolve: (_root, args) => {
      const org = find(String(args.login));
      if (!org)
        throw new GraphqlFailure([
          {
            type: "NOT_FOUND",
            path: ["organization"],
            message: `Could not resolve to an Organization with the login of '${String(args.login)}'.`,
          },
        ]);
      return { login: org.settings.login, org };
    },
  };
}

/** The object types behind `organization { projectsV2 … projectV2(number:) { items … } }`. */
export const ORG_GRAPHQL_TYPES: Record<string, Record<string, FieldDef>> = {
  Organization: {
    login: S("String"),
    projectsV2: {
      type: "ProjectV2Connection",
      args: { ...page, orderBy: "ProjectV2Order", query: "String" },
      resolve: (parent, args) => connection(projectsOf(parent), args, "projectsV2"),
    },
    projectV2: {
      type: "ProjectV2",
      args: { number: "Int!" },
      resolve: (parent, args) => projectsOf(parent).find((p) => p.number === args.number) ?? null,
    },
  },
  ProjectV2Connection: { totalCount: S("Int"), pageInfo: S("PageInfo"), nodes: S("[ProjectV2]") },
  ProjectV2: {
    id: S("ID"),
    number: S("Int"),
    title: S("String"),
    shortDescription: S("String"),
    readme: S("String"),
    public: S("Boolean"),
    closed: S("Boolean"),
    template: S("Boolean"),
    url: S("URI"),
    createdAt: S("DateTime"),
    updatedAt: S("DateTime"),
    fields: {
      type: "ProjectV2FieldConfigurationConnection",
      args: { ...page, orderBy: "ProjectV2FieldOrder" },
      resolve: (p, args) => connection((p.fields as ApiObject[]) ?? [], args, "fields"),
    },
    items: {
      type: "ProjectV2ItemConnection",
      args: { ...page, orderBy: "ProjectV2ItemOrder" },
      resolve: (p, args) => connection((p.items as ApiObject[]) ?? [], args, "items"),
    },
  },
  ProjectV2FieldConfigurationConnection: {
    totalCount: S("Int"),
    pageInfo: S("PageInfo"),
    nodes: S("[ProjectV2FieldConfiguration]"),
  },
  ProjectV2FieldConfiguration: {},
  ProjectV2FieldCommon: named,
  ProjectV2Field: named,
  ProjectV2SingleSelectField: { ...named, options: S("[ProjectV2SingleSelectFieldOption!]") },
  ProjectV2SingleSelectFieldOption: { id: S("ID"), name: S("String"), color: S("String") },
  ProjectV2IterationField: { ...named, configuration: S("ProjectV2IterationFieldConfiguration") },
  ProjectV2IterationFieldConfiguration: {
    duration: S("Int"),
    startDay: S("Int"),
    iterations: S("[ProjectV2IterationFieldIteration!]"),
  },
  ProjectV2IterationFieldIteration: {
    id: S("ID"),
    title: S("String"),
    startDate: S("Date"),
    duration: S("Int"),
  },
  ProjectV2ItemConnection: { totalCount: S("Int"), pageInfo: S("PageInfo"), nodes: S("[ProjectV2Item]") },
  ProjectV2Item: {
    id: S("ID"),
    type: S("ProjectV2ItemType"),
    isArchived: S("Boolean"),
    createdAt: S("DateTime"),
    updatedAt: S("DateTime"),
    content: S("ProjectV2ItemContent"),
    fieldValues: {
      type: "ProjectV2ItemFieldValueConnection",
      args: { ...page, orderBy: "ProjectV2ItemFieldValueOrder" },
      resolve: (item, args) => connection((item.fieldValues as ApiObject[]) ?? [], args, "fieldValues"),
    },
  },
  ProjectV2ItemContent: {},
  DraftIssue: { title: S("String"), body: S("String") },
  ProjectV2ItemFieldValueConnection: {
    totalCount: S("Int"),
    pageInfo: S("PageInfo"),
    nodes: S("[ProjectV2ItemFieldValue]"),
  },
  ProjectV2ItemFieldValue: {},
  ProjectV2ItemFieldValueCommon: { field: S("ProjectV2FieldConfiguration") },
  ProjectV2ItemFieldTextValue: { text: S("String"), field: S("ProjectV2FieldConfiguration") },
  ProjectV2ItemFieldNumberValue: { number: S("Float"), field: S("ProjectV2FieldConfiguration") },
  ProjectV2ItemFieldDateValue: { date: S("Date"), field: S("ProjectV2FieldConfiguration") },
  ProjectV2ItemFieldSingleSelectValue: {
    name: S("String"),
    optionId: S("String"),
    field: S("ProjectV2FieldConfiguration"),
  },
  ProjectV2ItemFieldIterationValue: {
    title: S("String"),
    iterationId: S("String"),
    startDate: S("Date"),
    duration: S("Int"),
    field: S("ProjectV2FieldConfiguration"),
  },
};

/** Fields an item's Issue or PullRequest content has beyond the timeline stand-in's. */
export const ORG_CONTENT_FIELDS: Record<string, FieldDef> = { url: S("URI") };

/** Unions and interfaces of those types, for inline fragments. */
export const ORG_GRAPHQL_IMPLEMENTATIONS: Record<string, string[]> = {
  ProjectV2FieldConfiguration: ["ProjectV2Field", "ProjectV2SingleSelectField", "ProjectV2IterationField"],
  ProjectV2FieldCommon: ["ProjectV2Field", "ProjectV2SingleSelectField", "ProjectV2IterationField"],
  ProjectV2ItemContent: ["Issue", "PullRequest", "DraftIssue"],
  ProjectV2ItemFieldValue: [
    "ProjectV2ItemFieldTextValue",
    "ProjectV2ItemFieldNumberValue",
    "ProjectV2ItemFieldDateValue",
    "ProjectV2ItemFieldSingleSelectValue",
    "ProjectV2ItemFieldIterationValue",
  ],
};

function projectsOf(parent: ApiObject): ApiObject[] {
  const org = parent.org as OrgMetadata;
  if (org.forbidden.has("projects"))
    throw new GraphqlFailure([
      {
        type: "FORBIDDEN",
        path: ["organization", "projectsV2"],
        message: "Resource not accessible by integration",
      },
    ]);
  return org.projects;
}
