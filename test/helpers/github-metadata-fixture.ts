// A repository's metadata in GitHub's API shape, with every kind the collection reads: settings and
// branch protection, rulesets, labels over two pages, issues and pull requests over three (a locked
// issue, a merged and a closed pull request with reviews), timelines with cross-references, and a
// release with binary assets. URLs and ids are as GitHub adds them, so trimming is exercised too.
import { createHash, randomBytes } from "node:crypto";
import type { RepoMetadata } from "./github-standin-metadata.js";

type ApiObject = Record<string, unknown>;

const API = "https://api.github.com";
const user = (login: string, id = login.length * 1000) => ({
  login,
  id,
  node_id: `U_${login}`,
  avatar_url: `https://avatars.githubusercontent.com/u/${id}`,
  url: `${API}/users/${login}`,
  html_url: `https://github.com/${login}`,
  type: "User",
  site_admin: false,
});
const reactions = (n: number, url: string) => ({
  url: `${url}/reactions`,
  total_count: n + 1,
  "+1": n,
  "-1": 0,
  laugh: 0,
  hooray: 1,
  confused: 0,
  heart: 0,
  rocket: 0,
  eyes: 0,
});

/** Seconds after 2026-01-01T00:00:00Z, as GitHub writes times. */
export function at(seconds: number): string {
  return new Date(Date.UTC(2026, 0, 1) + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export interface FixtureOptions {
  repo: string;
  /** Issues and pull requests in all (numbers 1..n); default 230 (three pages of 100). */
  issues?: number;
  /** Comments in all; default 250. */
  comments?: number;
}

/** Fills `meta` with a repository's worth of metadata; returns the asset bytes' SHA-256 by asset id. */
export function fillMetadata(meta: RepoMetadata, options: FixtureOptions): Map<number, string> {
  const { repo } = options;
  const repoApi = `${API}/repos/${repo}`;
  Object.assign(meta.settings, {
    description: "The app",
    homepage: "https://app.example.com",
    topics: ["backup", "demo"],
    visibility: "private",
    default_branch: "main",
    has_issues: true,
    has_projects: false,
    has_wiki: true,
    has_discussions: false,
    allow_squash_merge: true,
    allow_merge_commit: false,
    allow_rebase_merge: true,
    allow_auto_merge: true,
    delete_branch_on_merge: true,
    squash_merge_commit_title: "PR_TITLE",
    squash_merge_commit_message: "PR_BODY",
    custom_properties: { team: "core" },
    hooks_url: `${repoApi}/hooks`,
    created_at: at(0),
    updated_at: at(10),
    pushed_at: at(20),
  });
  meta.protections.main = {
    url: `${repoApi}/branches/main/protection`,
    required_status_checks: {
      url: "x",
      strict: true,
      contexts: ["ci"],
      checks: [{ context: "ci", app_id: 15368 }],
    },
    enforce_admins: { url: `${repoApi}/branches/main/protection/enforce_admins`, enabled: true },
    required_pull_request_reviews: {
      url: "x",
      dismiss_stale_reviews: true,
      require_code_owner_reviews: true,
      required_approving_review_count: 2,
      require_last_push_approval: false,
      dismissal_restrictions: {
        url: "x",
        users: [user("alice")],
        teams: [{ slug: "core", id: 7 }],
        apps: [],
      },
    },
    restrictions: null,
    required_linear_history: { enabled: true },
    allow_force_pushes: { enabled: false },
    allow_deletions: { enabled: false },
    required_conversation_resolution: { enabled: true },
  };
  meta.protections["release/1.x"] = { url: "x", enforce_admins: { url: "x", enabled: false } };
  meta.rulesets.push({
    id: 42,
    name: "main rules",
    target: "branch",
    source_type: "Repository",
    source: repo,
    enforcement: "active",
    node_id: "RRS_42",
    _links: { self: { href: `${repoApi}/rulesets/42` } },
    bypass_actors: [{ actor_id: 5, actor_type: "RepositoryRole", bypass_mode: "always" }],
    conditions: { ref_name: { include: ["~DEFAULT_BRANCH"], exclude: [] } },
    rules: [
      { type: "deletion" },
      { type: "pull_request", parameters: { required_approving_review_count: 1 } },
    ],
    created_at: at(30),
    updated_at: at(31),
  });
  meta.autolinks.push({
    id: 1,
    key_prefix: "JIRA-",
    url_template: "https://jira.example.com/browse/JIRA-<num>",
    is_alphanumeric: false,
  });
  for (let i = 0; i < 120; i++) {
    const name = i === 0 ? "bug" : i === 1 ? "enhancement" : `area-${String(i).padStart(3, "0")}`;
    meta.labels.push({
      id: 5000 + i,
      node_id: `LA_${i}`,
      url: `${repoApi}/labels/${name}`,
      name,
      color: "d73a4a",
      description: i === 0 ? "Something is broken" : null,
      default: i < 2,
    });
  }
  const milestone = (number: number, state: string) => ({
    url: `${repoApi}/milestones/${number}`,
    id: 900 + number,
    number,
    title: `v${number}`,
    description: null,
    creator: user("alice"),
    open_issues: 1,
    closed_issues: 2,
    state,
    created_at: at(40 + number),
    updated_at: at(50 + number),
    due_on: null,
    closed_at: state === "closed" ? at(60) : null,
  });
  meta.milestones.push(milestone(1, "closed"), milestone(2, "open"));

  const issues = options.issues ?? 230;
  const labelObject = (name: string) => ({
    id: 1,
    url: `${repoApi}/labels/${name}`,
    name,
    color: "fff",
    default: false,
  });
  for (let n = 1; n <= issues; n++) {
    const isPull = n >= 2 && n <= 4;
    const issueUrl = `${repoApi}/issues/${n}`;
    meta.issues.push({
      url: issueUrl,
      repository_url: repoApi,
      html_url: `https://github.com/${repo}/issues/${n}`,
      id: 100_000 + n,
      node_id: `I_${n}`,
      number: n,
      title: n === 1 ? "Crash on start (renamed)" : `Issue ${n}`,
      body: n % 7 === 0 ? null : `Body of ${n}\nwith ünïcode ✓`,
      user: user(n % 2 ? "alice" : "bob"),
      labels: n % 3 === 0 ? [labelObject("bug")] : [],
      state: n === 1 || n === 3 || n === 2 ? "closed" : "open",
      state_reason: n === 1 ? "completed" : null,
      locked: n === 1,
      active_lock_reason: n === 1 ? "resolved" : null,
      assignees: n === 1 ? [user("carol")] : [],
      milestone: n === 1 ? milestone(1, "closed") : null,
      comments: 0,
      reactions: reactions(n % 4, issueUrl),
      author_association: "MEMBER",
      created_at: at(1000 + n * 10),
      updated_at: at(100_000 + n * 10),
      closed_at: n <= 3 ? at(50_000 + n) : null,
      ...(isPull
        ? { pull_request: { url: `${repoApi}/pulls/${n}`, merged_at: n === 2 ? at(49_000) : null } }
        : {}),
    });
  }
  const comments = options.comments ?? 250;
  for (let c = 1; c <= comments; c++) {
    const issue = ((c * 7) % issues) + 1;
    meta.comments.push({
      url: `${repoApi}/issues/comments/${700_000 + c}`,
      html_url: "x",
      issue_url: `${repoApi}/issues/${issue}`,
      id: 700_000 + c,
      node_id: `IC_${c}`,
      user: user(c % 2 ? "bob" : "carol"),
      body: `Comment ${c}`,
      author_association: "CONTRIBUTOR",
      reactions: reactions(c % 3, "x"),
      created_at: at(2000 + c * 10),
      updated_at: at(200_000 + c * 10),
    });
  }
  meta.timelines[1] = [
    {
      id: 1,
      node_id: "x",
      url: "x",
      actor: user("alice"),
      event: "labeled",
      label: { name: "bug", color: "f00" },
      created_at: at(3000),
    },
    { id: 2, actor: user("alice"), event: "assigned", assignee: user("carol"), created_at: at(3001) },
    {
      id: 3,
      actor: user("alice"),
      event: "renamed",
      rename: { from: "Crash", to: "Crash on start (renamed)" },
      created_at: at(3002),
    },
    {
      event: "commented",
      id: 700_001,
      body: "kept in issue-comments",
      actor: user("bob"),
      created_at: at(3003),
    },
    {
      id: 4,
      actor: user("alice"),
      event: "closed",
      commit_id: null,
      state_reason: "completed",
      created_at: at(3004),
    },
    { id: 5, actor: user("bob"), event: "reopened", created_at: at(3005) },
    { id: 6, actor: user("alice"), event: "closed", commit_id: null, created_at: at(3006) },
    { id: 7, actor: user("alice"), event: "locked", lock_reason: "resolved", created_at: at(3007) },
    {
      event: "cross-referenced",
      actor: user("bob"),
      created_at: at(3008),
      updated_at: at(3008),
      source: {
        type: "issue",
        issue: {
          number: 3,
          title: "Issue 3",
          repository: { full_name: repo, url: repoApi },
          pull_request: { url: "x" },
        },
      },
    },
    { id: 8, actor: user("alice"), event: "milestoned", milestone: { title: "v1" }, created_at: at(3009) },
  ];
  meta.timelines[2] = [
    {
      id: 20,
      actor: user("bob"),
      event: "review_requested",
      requested_reviewer: user("alice"),
      review_requester: user("bob"),
      created_at: at(4000),
    },
    { event: "committed", sha: "a".repeat(40), message: "m" },
    { event: "reviewed", id: 81, state: "approved", user: user("alice") },
    { id: 21, actor: user("bob"), event: "merged", commit_id: "b".repeat(40), created_at: at(4001) },
    { id: 22, actor: user("bob"), event: "closed", commit_id: null, created_at: at(4002) },
    { id: 23, actor: user("bob"), event: "head_ref_deleted", created_at: at(4003) },
  ];
  meta.timelines[3] = [
    { id: 30, actor: user("carol"), event: "closed", commit_id: null, created_at: at(5000) },
  ];

  const branch = (ref: string, sha: string) => ({
    label: `acme:${ref}`,
    ref,
    sha,
    user: user("acme"),
    repo: { id: 1, full_name: repo, url: repoApi },
  });
  const pull = (n: number, extra: ApiObject) => {
    const issue = meta.issues.find((i) => i.number === n)!;
    return {
      url: `${repoApi}/pulls/${n}`,
      id: 300_000 + n,
      node_id: `PR_${n}`,
      number: n,
      title: issue.title,
      body: issue.body,
      user: issue.user,
      state: issue.state,
      locked: false,
      labels: [],
      assignees: [],
      milestone: null,
      requested_reviewers: [],
      requested_teams: [],
      head: branch(`feature-${n}`, String(n).repeat(40).slice(0, 40)),
      base: branch("main", "c".repeat(40)),
      merged_at: null,
      merge_commit_sha: null,
      draft: false,
      author_association: "MEMBER",
      auto_merge: null,
      created_at: issue.created_at,
      updated_at: issue.updated_at,
      closed_at: issue.closed_at,
      _links: { self: { href: "x" } },
      ...extra,
    };
  };
  meta.pulls.push(
    pull(2, { merged_at: at(49_000), merge_commit_sha: "b".repeat(40) }),
    pull(3, {}),
    pull(4, {
      draft: true,
      requested_reviewers: [user("alice")],
      requested_teams: [{ slug: "core", id: 7, name: "Core" }],
    }),
  );
  meta.reviews[2] = [
    {
      id: 81,
      node_id: "x",
      user: user("alice"),
      body: "LGTM",
      state: "APPROVED",
      commit_id: "2".repeat(40),
      submitted_at: at(48_000),
      author_association: "MEMBER",
      html_url: "x",
      _links: {},
    },
    {
      id: 82,
      user: user("carol"),
      body: "",
      state: "COMMENTED",
      commit_id: "2".repeat(40),
      submitted_at: at(48_001),
      author_association: "MEMBER",
    },
  ];
  meta.reviews[3] = [
    {
      id: 83,
      user: user("alice"),
      body: "No.",
      state: "CHANGES_REQUESTED",
      commit_id: "3".repeat(40),
      submitted_at: at(48_100),
      author_association: "MEMBER",
    },
  ];
  const reviewComment = (id: number, pullNumber: number, extra: ApiObject) => ({
    url: `${repoApi}/pulls/comments/${id}`,
    pull_request_review_id: 82,
    id,
    node_id: "x",
    diff_hunk: "@@ -1,3 +1,4 @@\n line\n+added",
    path: "src/app.ts",
    commit_id: "2".repeat(40),
    original_commit_id: "1".repeat(40),
    user: user("carol"),
    body: `Review comment ${id}`,
    created_at: at(47_000 + (id % 100)),
    updated_at: at(47_500 + (id % 100)),
    html_url: "x",
    pull_request_url: `${repoApi}/pulls/${pullNumber}`,
    author_association: "MEMBER",
    _links: {},
    reactions: reactions(0, "x"),
    start_line: null,
    original_start_line: null,
    start_side: null,
    line: 2,
    original_line: 2,
    side: "RIGHT",
    original_position: 2,
    position: 2,
    subject_type: "line",
    ...extra,
  });
  meta.reviewComments.push(
    reviewComment(60_001, 2, {}),
    reviewComment(60_002, 2, { in_reply_to_id: 60_001, body: "Fixed." }),
  );

  const digests = new Map<number, string>();
  const asset = (id: number, name: string, bytes: Buffer, withDigest: boolean) => {
    meta.assetBytes.set(id, bytes);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    digests.set(id, sha256);
    return {
      url: `${repoApi}/releases/assets/${id}`,
      browser_download_url: `https://github.com/${repo}/releases/download/v1.0/${name}`,
      id,
      node_id: "x",
      name,
      label: null,
      state: "uploaded",
      content_type: "application/octet-stream",
      size: bytes.length,
      digest: withDigest ? `sha256:${sha256}` : null,
      download_count: 3,
      created_at: at(90_000),
      updated_at: at(90_001),
      uploader: user("alice"),
    };
  };
  meta.releases.push(
    {
      url: `${repoApi}/releases/11`,
      id: 11,
      tag_name: "v1.0",
      target_commitish: "main",
      name: "One",
      body: "First release",
      draft: false,
      prerelease: false,
      author: user("alice"),
      created_at: at(89_000),
      published_at: at(89_500),
      assets: [
        asset(201, "app-linux-x64.tar.gz", randomBytes(300 * 1024 + 17), true),
        asset(202, "checksums.txt", Buffer.from("abc  app-linux-x64.tar.gz\n"), false),
      ],
    },
    {
      url: `${repoApi}/releases/12`,
      id: 12,
      tag_name: "v1.1-rc",
      target_commitish: "main",
      name: null,
      body: null,
      draft: true,
      prerelease: true,
      author: user("bob"),
      created_at: at(91_000),
      published_at: null,
      assets: [],
    },
  );
  meta.collaborators.push({
    ...user("alice"),
    permissions: { admin: true, push: true, pull: true },
    role_name: "admin",
  });
  meta.teams.push({
    id: 7,
    node_id: "x",
    url: "x",
    slug: "core",
    name: "Core",
    permission: "push",
    privacy: "closed",
  });
  meta.hooks.push({
    type: "Repository",
    id: 77,
    name: "web",
    active: true,
    events: ["push", "issues"],
    config: {
      url: "https://hooks.example.com/in",
      content_type: "json",
      insecure_ssl: "0",
      secret: "********",
    },
    updated_at: at(70),
    created_at: at(71),
    url: "x",
    test_url: "x",
    ping_url: "x",
    deliveries_url: "x",
    last_response: { code: 200, status: "active", message: "OK" },
  });
  meta.keys.push({
    id: 88,
    key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEXAMPLE",
    url: "x",
    title: "deploy",
    verified: true,
    created_at: at(80),
    read_only: true,
    added_by: "alice",
    last_used: null,
  });
  meta.variables.push({ name: "REGION", value: "europe-west1", created_at: at(81), updated_at: at(82) });
  meta.secrets.push({ name: "NPM_TOKEN", created_at: at(83), updated_at: at(84) });
  meta.environments.push({
    id: 99,
    node_id: "x",
    name: "production",
    url: "x",
    html_url: "x",
    created_at: at(85),
    updated_at: at(86),
    protection_rules: [
      { id: 1, node_id: "x", type: "wait_timer", wait_timer: 30 },
      {
        id: 2,
        node_id: "x",
        type: "required_reviewers",
        prevent_self_review: true,
        reviewers: [{ type: "Team", reviewer: { slug: "core", id: 7 } }],
      },
    ],
    deployment_branch_policy: { protected_branches: true, custom_branch_policies: false },
  });
  return digests;
}
