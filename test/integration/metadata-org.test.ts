// An organization's own snapshot ("<org>/@org"): settings, members, teams with their members and
// repository permissions, org rulesets (REST, paged), and Projects v2 with fields and items
// (GraphQL, paged by cursor), collected with the real @octokit clients from the GitHub stand-in and
// read back from the archive: each kind equals what the stand-in serves, by a canonical projection.
// What the App may not read (403, FORBIDDEN) is recorded unavailable with GitHub's reason.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitHubMetadataSource } from "../../functions/adapters/github/metadata-source.js";
import { ORG_KINDS } from "../../functions/core/metadata/kinds.js";
import { readMetadata } from "../../functions/core/metadata/read.js";
import { snapshotOrg } from "../../functions/core/org-snapshot.js";
import { main } from "../../functions/cli/main.js";
import { parseMessage, snapshotRequestSchema, type SnapshotRequest } from "../../functions/core/messages.js";
import type { Publisher, SourceHost } from "../../functions/core/ports.js";
import { runSnapshotRequest } from "../../functions/core/snapshot-request.js";
import { sweep } from "../../functions/core/sweep.js";
import type { Snapshot } from "../../functions/core/model.js";
import type { LocalApp } from "../../functions/wiring.js";
import type { OrgMetadata } from "../helpers/github-standin-org.js";
import type { GitHubStandin } from "../helpers/github-standin.js";
import { startMetadataStandin, type MetadataStandin } from "../helpers/github-world.js";
import { manualClock, workspace, type TestWorkspace } from "../helpers/local-app.js";

type O = Record<string, unknown>;

const APP_ID = 636363;
const clock = manualClock("2026-11-30T00:00:00.000Z");

let standin: MetadataStandin;
let github: GitHubStandin;
let metadata: GitHubMetadataSource;
let ws: TestWorkspace;
let app: LocalApp;

const field = (name: string, typename = "ProjectV2Field") => ({ __typename: typename, name });

/** An org with every kind: 130 members (two pages), three teams, two rulesets, two projects (150 items). */
function fill(org: OrgMetadata): void {
  Object.assign(org.settings, {
    name: "Acme Corp",
    description: "We make everything",
    default_repository_permission: "read",
    members_can_create_repositories: false,
    two_factor_requirement_enabled: true,
    web_commit_signoff_required: true,
    created_at: "2020-01-01T00:00:00Z",
    updated_at: "2026-11-01T00:00:00Z",
    billing_email: "not@kept.example", // not a setting a restore needs: dropped
  });
  for (let i = 0; i < 130; i++)
    org.members.push({
      login: `user-${String(i).padStart(3, "0")}`,
      id: 5000 + i,
      role: i < 3 ? "admin" : "member",
    });
  org.teams.push(
    {
      team: {
        id: 1,
        slug: "core",
        name: "Core",
        description: "Core devs",
        privacy: "closed",
        permission: "push",
        parent: null,
      },
      members: [
        { login: "user-001", id: 5001, role: "maintainer" },
        { login: "user-010", id: 5010, role: "member" },
      ],
      repos: [
        {
          id: 11,
          full_name: "acme/app",
          role_name: "maintain",
          permissions: { admin: false, maintain: true, push: true, pull: true },
        },
        { id: 12, full_name: "acme/lib", permissions: { admin: false, push: true, pull: true } },
      ],
    },
    {
      team: {
        id: 2,
        slug: "core-infra",
        name: "Core infra",
        privacy: "secret",
        permission: "pull",
        parent: { slug: "core", id: 1 },
      },
      members: [{ login: "user-020", id: 5020, role: "member" }],
      repos: [],
    },
    {
      team: { id: 3, slug: "empty", name: "Empty", privacy: "closed", permission: "pull", parent: null },
      members: [],
      repos: [],
    },
  );
  org.rulesets.push(
    {
      id: 71,
      name: "protect main everywhere",
      target: "branch",
      source_type: "Organization",
      source: "acme",
      enforcement: "active",
      bypass_actors: [{ actor_id: 1, actor_type: "Team", bypass_mode: "always" }],
      conditions: {
        ref_name: { include: ["~DEFAULT_BRANCH"], exclude: [] },
        repository_name: { include: ["~ALL"], exclude: [] },
      },
      rules: [
        { type: "deletion" },
        { type: "pull_request", parameters: { required_approving_review_count: 2 } },
      ],
      created_at: "2026-01-01T00:00:00Z",
      updated_at: "2026-02-01T00:00:00Z",
    },
    {
      id: 72,
      name: "tags",
      target: "tag",
      source_type: "Organization",
      source: "acme",
      enforcement: "evaluate",
      rules: [{ type: "creation" }],
    },
  );
  const items = Array.from({ length: 150 }, (_, i) => ({
    id: `PVTI_${String(i).padStart(4, "0")}`,
    type: i % 3 === 0 ? "DRAFT_ISSUE" : i % 3 === 1 ? "ISSUE" : "PULL_REQUEST",
    isArchived: i === 7,
    createdAt: "2026-03-01T00:00:00Z",
    updatedAt: "2026-03-02T00:00:00Z",
    content:
      i % 3 === 0
        ? { __typename: "DraftIssue", title: `Draft ${i}`, body: `Body ${i}` }
        : {
            __typename: i % 3 === 1 ? "Issue" : "PullRequest",
            number: i,
            title: `Item ${i}`,
            url: `https://github.com/acme/app/issues/${i}`,
            repository: { nameWithOwner: "acme/app" },
          },
    fieldValues: [
      {
        __typename: "ProjectV2ItemFieldSingleSelectValue",
        name: i % 2 ? "Done" : "Todo",
        optionId: i % 2 ? "o2" : "o1",
        field: field("Status", "ProjectV2SingleSelectField"),
      },
      { __typename: "ProjectV2ItemFieldNumberValue", number: i * 1.5, field: field("Estimate") },
      ...(i % 5 === 0
        ? [{ __typename: "ProjectV2ItemFieldTextValue", text: `note ${i}`, field: field("Notes") }]
        : []),
    ],
  }));
  org.projects.push(
    {
      id: "PVT_1",
      number: 1,
      title: "Roadmap",
      shortDescription: "What comes next",
      readme: "# Roadmap",
      public: false,
      closed: false,
      url: "https://github.com/orgs/acme/projects/1",
      createdAt: "2026-01-01T00:00:00Z",
      updatedAt: "2026-03-02T00:00:00Z",
      fields: [
        { __typename: "ProjectV2Field", id: "F1", name: "Title", dataType: "TITLE" },
        {
          __typename: "ProjectV2SingleSelectField",
          id: "F2",
          name: "Status",
          dataType: "SINGLE_SELECT",
          options: [
            { id: "o1", name: "Todo", color: "GRAY" },
            { id: "o2", name: "Done", color: "GREEN" },
          ],
        },
        { __typename: "ProjectV2Field", id: "F3", name: "Estimate", dataType: "NUMBER" },
        {
          __typename: "ProjectV2IterationField",
          id: "F4",
          name: "Sprint",
          dataType: "ITERATION",
          configuration: {
            duration: 14,
            startDay: 1,
            iterations: [{ id: "it1", title: "Sprint 1", startDate: "2026-03-02", duration: 14 }],
          },
        },
      ],
      items,
    },
    { id: "PVT_2", number: 2, title: "Closed one", public: true, closed: true, fields: [], items: [] },
  );
}

/** The stand-in's org as lines, independently of the collection's code: the canonical projection. */
function expected(org: OrgMetadata) {
  const s = org.settings;
  const teamLine = (t: OrgMetadata["teams"][number]) => ({
    slug: t.team.slug,
    name: t.team.name,
    parent: (t.team.parent as O | null)?.slug ?? null,
    permission: t.team.permission,
    privacy: t.team.privacy,
    members: [...t.members].sort((a, b) => a.login.localeCompare(b.login)),
    repositories: t.repos
      .map((r) => ({
        full_name: String(r.full_name),
        permission:
          r.role_name ??
          ["admin", "maintain", "push", "triage", "pull"].find((role) => (r.permissions as O)[role] === true),
      }))
      .sort((a, b) => a.full_name.localeCompare(b.full_name)),
  });
  const project = org.projects[0]!;
  return {
    org: [
      {
        login: s.login,
        name: s.name,
        default_repository_permission: "read",
        two_factor_requirement_enabled: true,
      },
    ],
    members: [...org.members].sort((a, b) => a.login.localeCompare(b.login)),
    teams: [...org.teams]
      .sort((a, b) => String(a.team.slug).localeCompare(String(b.team.slug)))
      .map(teamLine),
    rulesets: org.rulesets.map((r) => ({
      id: r.id,
      name: r.name,
      enforcement: r.enforcement,
      rules: r.rules,
      conditions: r.conditions,
    })),
    projects: org.projects.map((p) => ({
      number: p.number,
      title: p.title,
      closed: p.closed,
      fields: ((p.fields as O[]) ?? []).map((f) => f.name),
    })),
    items: (project.items as O[]).map((i) => {
      const content = i.content as O;
      const values = Object.fromEntries(
        (i.fieldValues as O[]).map((v) => {
          const { __typename: _t, field: f, ...rest } = v;
          const keys = Object.keys(rest);
          return [(f as O).name, keys.length === 1 ? rest[keys[0]!] : rest];
        }),
      );
      return {
        project_number: 1,
        id: i.id,
        archived: i.isArchived,
        type: content.__typename,
        title: content.title,
        number: content.number,
        values,
      };
    }),
  };
}

async function read(snapshot: Snapshot) {
  return readMetadata(app, snapshot, { kinds: ORG_KINDS }, { actor: "test", purpose: "org round trip" });
}

beforeAll(async () => {
  standin = await startMetadataStandin(APP_ID);
  github = standin.github;
  github.install("globex");
  fill(github.orgMetadata("acme"));
  fill(github.orgMetadata("globex"));
  metadata = standin.source();
  ws = await workspace({});
  app = await ws.open(clock);
}, 60_000);

afterAll(async () => {
  await app?.close();
  await ws?.cleanup();
  await github?.close();
});

describe("an organization's own snapshot", () => {
  it("holds every org kind as the stand-in serves it, filed under <org>/@org", async () => {
    const { snapshot, outcome } = await snapshotOrg(app, "acme", metadata, { actor: "test" });
    expect(outcome).toBe("created");
    expect(snapshot.repo).toBe("acme/@org");
    expect(snapshot.objectKey.startsWith("repos/acme/@org/")).toBe(true);
    expect(snapshot.refs).toEqual({});
    expect(snapshot.metadata?.unavailable).toEqual({});
    expect(snapshot.metadata?.items).toEqual({
      org: 1,
      "org-members": 130,
      "org-teams": 3,
      "org-rulesets": 2,
      "org-projects": 2,
      "org-project-items": 150,
    });
    expect(await app.index.repos()).toContain("acme/@org");

    const want = expected(github.orgMetadata("acme"));
    const got = await read(snapshot);
    for (const kind of ORG_KINDS) expect(got.kinds[kind]).toEqual({ state: "present" });
    const lines = got.lines;
    expect(lines.org).toEqual([expect.objectContaining(want.org[0])]);
    expect(lines.org?.[0]).not.toHaveProperty("billing_email");
    expect(lines["org-members"]?.map((m) => ({ login: m.login, id: m.id, role: m.role }))).toEqual(
      want.members,
    );
    expect(
      lines["org-teams"]?.map((t) => ({
        slug: t.slug,
        name: t.name,
        parent: t.parent,
        permission: t.permission,
        privacy: t.privacy,
        members: t.members,
        repositories: (t.repositories as O[]).map((r) => ({
          full_name: r.full_name,
          permission: r.permission,
        })),
      })),
    ).toEqual(want.teams);
    expect(
      lines["org-rulesets"]?.map((r) => ({
        id: r.id,
        name: r.name,
        enforcement: r.enforcement,
        rules: r.rules,
        conditions: r.conditions ?? undefined,
      })),
    ).toEqual(want.rulesets);
    expect(
      lines["org-projects"]?.map((p) => ({
        number: p.number,
        title: p.title,
        closed: p.closed,
        fields: (p.fields as O[]).map((f) => f.name),
      })),
    ).toEqual(want.projects);
    const status = (lines["org-projects"]?.[0]?.fields as O[]).find((f) => f.name === "Status");
    expect(status?.options).toEqual([
      { id: "o1", name: "Todo", color: "GRAY" },
      { id: "o2", name: "Done", color: "GREEN" },
    ]);
    expect(
      lines["org-project-items"]?.map((i) => {
        const c = i.content as O;
        return {
          project_number: i.project_number,
          id: i.id,
          archived: i.archived,
          type: c.type,
          title: c.title,
          number: c.number,
          values: i.values,
        };
      }),
    ).toEqual(want.items);
  });

  it("records what the App may not read as unavailable with GitHub's reason, and keeps the rest", async () => {
    const org = github.orgMetadata("globex");
    org.forbidden = new Set(["teams", "projects"]);
    const { snapshot } = await snapshotOrg(app, "globex", metadata, { actor: "test" });
    expect(snapshot.metadata?.items).toEqual({ org: 1, "org-members": 130, "org-rulesets": 2 });
    expect(Object.keys(snapshot.metadata?.unavailable ?? {}).sort()).toEqual([
      "org-project-items",
      "org-projects",
      "org-teams",
    ]);
    expect(snapshot.metadata?.unavailable["org-teams"]).toMatch(/^403: the GitHub App lacks the permission/);
    const got = await read(snapshot);
    expect(got.kinds["org-teams"]).toMatchObject({ state: "unavailable", status: 403 });
    expect(got.kinds["org-projects"]).toMatchObject({ state: "unavailable", status: 403 });
    expect(got.kinds["org-members"]).toEqual({ state: "present" });
    expect(got.lines["org-members"]).toHaveLength(130);
  });

  it("shows the org's teams, rulesets and projects with `show --org`, and an unavailable kind's reason", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = (sink: string[]) =>
      ({ isTTY: false, write: (c: string) => (sink.push(c), true) }) as unknown as NodeJS.WriteStream;
    const show = async (...args: string[]) => {
      out.length = 0;
      err.length = 0;
      const code = await main(["show", ...args, "--config", ws.configFile], {
        stdout: io(out),
        stderr: io(err),
      });
      return { code, text: out.join("") };
    };
    const teams = await show("--org", "acme", "teams", "--json");
    expect(teams.code, err.join("")).toBe(0);
    const parsed = JSON.parse(teams.text) as { repo: string; items: O[] };
    expect(parsed.repo).toBe("acme/@org");
    expect(parsed.items.map((t) => t.slug)).toEqual(["core", "core-infra", "empty"]);
    const text = await show("--org", "acme", "teams");
    expect(text.text).toContain(
      "core  Core  parent -  members user-001 (maintainer), user-010  repositories acme/app (maintain), acme/lib (push)",
    );
    expect((await show("--org", "acme", "rulesets")).text).toContain(
      "71  protect main everywhere  branch  active  rules deletion, pull_request",
    );
    expect((await show("--org", "acme", "projects")).text).toContain(
      "#1  Roadmap  fields Title, Status, Estimate, Sprint",
    );
    expect((await show("--org", "globex", "teams")).text).toMatch(
      /teams: unavailable \(403 the GitHub App lacks the permission/,
    );
    const bad = await show("--org", "acme", "issues");
    expect(bad.code).not.toBe(0);
    expect(err.join("")).toMatch(/say what to show of the organization: settings, members, teams/);
  });

  it("the org sweep asks one snapshot per organization, and a request for <org>/@org takes it", async () => {
    const published: SnapshotRequest[] = [];
    const publisher: Publisher = {
      publish: async (topic, messages) => {
        expect(topic).toBe("snapshot-requests");
        for (const m of messages) published.push(parseMessage(snapshotRequestSchema, m, "request"));
        return messages.map((_, i) => String(i));
      },
    };
    // A user's repository and a configured source outside GitHub get no org snapshot.
    const listed = [
      ...["acme/app", "acme/lib", "globex/site"].map((name, i) => ({
        name,
        url: `https://github.test/${name}.git`,
        id: 900 + i,
        ownerType: "Organization",
      })),
      {
        name: "someone/dotfiles",
        url: "https://github.test/someone/dotfiles.git",
        id: 990,
        ownerType: "User",
      },
      { name: "mirror/elsewhere", url: "https://git.example.com/mirror/elsewhere.git" },
    ];
    const sources: SourceHost = {
      listRepos: async () => listed,
      getRepo: async () => undefined,
      gitRemote: async () => ({ url: "" }),
    };
    clock.advance(60_000); // after the org snapshots of the tests above
    const outcome = await sweep({ index: app.index, clock, sources, publisher }, { v: 1, reason: "org" });
    expect(outcome).toEqual({ topic: "snapshot-requests", published: 2 });
    expect(published.map((r) => r.repo)).toEqual(["acme/@org", "globex/@org"]);

    const policy = { incremental: false as const, verify: false as const };
    const run = (r: SnapshotRequest) =>
      runSnapshotRequest({ ...app, publisher, orgMetadata: metadata }, r, policy, {
        actor: "test",
        deadlineMs: 60_000,
      });
    const first = await run(published[0]!);
    expect(first).toMatchObject({ handedOver: false, snapshot: { outcome: "created", repo: "acme/@org" } });
    expect((await app.index.latest("acme/@org"))?.metadata?.items["org-teams"]).toBe(3);
    // The same request again is served by that snapshot: no second one.
    const again = await run(published[0]!);
    expect("satisfiedBy" in again && again.satisfiedBy?.repo).toBe("acme/@org");
  });

  it("fails, committing nothing, for an organization the App is not installed on", async () => {
    await expect(snapshotOrg(app, "initech", metadata, { actor: "test" })).rejects.toThrow(
      /not installed on initech/,
    );
    expect(await app.index.latest("initech/@org")).toBeUndefined();
  });
});
