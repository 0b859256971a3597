// The settings plan: from a snapshot's stored lines to GitHub's request bodies. Pure, so each rule is
// a row: visibility never more public than the original without the flag, a protection's body with
// the four fields GitHub requires, checks preferred over legacy contexts, signed commits by their own
// request, webhooks and deploy keys only on request and a webhook named by its host only.
import { describe, expect, it } from "vitest";
import { UserInputError } from "../../functions/core/errors.js";
import {
  chosenVisibility,
  planSettings,
  type Visibility,
} from "../../functions/core/restore-github/settings-plan.js";

describe("chosenVisibility", () => {
  const table: [
    original: Visibility | undefined,
    asked: Visibility | undefined,
    allow: boolean,
    result: Visibility | "refused",
  ][] = [
    ["private", undefined, false, "private"],
    ["public", undefined, false, "public"],
    ["internal", undefined, false, "internal"],
    ["private", "public", false, "refused"],
    ["private", "internal", false, "refused"],
    ["internal", "public", false, "refused"],
    ["private", "public", true, "public"],
    ["public", "private", false, "private"],
    [undefined, undefined, false, "private"],
    [undefined, "public", false, "refused"],
  ];
  it.each(table)("original %s, asked %s, allowed %s: %s", (original, asked, allow, result) => {
    const line = original ? { visibility: original, private: original !== "public" } : undefined;
    const choose = () =>
      chosenVisibility(line, { ...(asked ? { visibility: asked } : {}), allowMorePublic: allow });
    if (result === "refused") expect(choose).toThrow(UserInputError);
    else expect(choose()).toBe(result);
  });

  it("reads an older line without `visibility` by `private`", () => {
    expect(chosenVisibility({ private: false }, {})).toBe("public");
    expect(chosenVisibility({ private: true }, {})).toBe("private");
  });
});

describe("planSettings", () => {
  it("turns a stored protection into the PUT body GitHub requires", () => {
    const { writes } = planSettings(
      {
        protections: [
          {
            branch: "main",
            required_status_checks: {
              strict: true,
              contexts: ["ci"],
              checks: [{ context: "ci", app_id: 15368 }],
            },
            enforce_admins: true,
            required_pull_request_reviews: {
              required_approving_review_count: 2,
              dismissal_restrictions: { users: ["alice"], teams: ["core"] },
            },
            restrictions: null,
            required_signatures: true,
            required_linear_history: true,
          },
          { branch: "old", enforce_admins: false },
        ],
      },
      {},
    );
    expect(writes).toEqual([
      {
        what: "branch protection of main",
        kind: "protection",
        branch: "main",
        protection: {
          required_status_checks: { strict: true, checks: [{ context: "ci", app_id: 15368 }] },
          enforce_admins: true,
          required_pull_request_reviews: {
            required_approving_review_count: 2,
            dismissal_restrictions: { users: ["alice"], teams: ["core"], apps: [] },
          },
          restrictions: null,
          required_linear_history: true,
        },
      },
      { what: "required signatures on main", kind: "signatures", branch: "main" },
      {
        what: "branch protection of old",
        kind: "protection",
        branch: "old",
        protection: {
          required_status_checks: null,
          enforce_admins: false,
          required_pull_request_reviews: null,
          restrictions: null,
        },
      },
    ]);
  });

  it("leaves webhooks and deploy keys out unless asked, and never names a webhook by more than its host", () => {
    const settings = {
      hooks: [
        {
          id: 1,
          name: "web",
          active: true,
          events: ["push"],
          config: { url: "https://hooks.slack.com/services/T000/B000/SECRETPATH", content_type: "json" },
        },
      ],
      deployKeys: [{ id: 2, title: "ci", key: "ssh-ed25519 AAAA", read_only: true }],
    };
    const plain = planSettings(settings, {});
    expect(plain.writes).toEqual([]);
    expect(plain.skipped.map((s) => s.what)).toEqual(["1 webhook(s)", "1 deploy key(s)"]);
    const asked = planSettings(settings, { hooks: true, deployKeys: true });
    expect(asked.writes.map((w) => w.what)).toEqual(["webhook to hooks.slack.com", "deploy key ci"]);
    expect(JSON.stringify(asked.writes.map((w) => w.what))).not.toContain("SECRETPATH");
    expect(asked.writes[0]).toMatchObject({
      body: {
        name: "web",
        active: true,
        events: ["push"],
        config: { url: settings.hooks[0]!.config.url, content_type: "json" },
      },
    });
    expect(asked.writes[0]).not.toHaveProperty("body.config.secret");
  });

  it("sends the repository's settings (visibility first checked), topics apart, an archived original left for a person", () => {
    const { writes, skipped } = planSettings(
      {
        repository: {
          visibility: "public",
          private: false,
          description: "d",
          homepage: null,
          topics: ["a", "b"],
          has_wiki: false,
          allow_squash_merge: true,
          default_branch: "trunk",
          archived: true,
          custom_properties: { team: "x" },
        },
      },
      {},
    );
    expect(writes).toEqual([
      {
        what: "repository settings",
        kind: "repository",
        change: {
          visibility: "public",
          description: "d",
          homepage: null,
          has_wiki: false,
          allow_squash_merge: true,
          default_branch: "trunk",
        },
      },
      { what: "topics", kind: "topics", topics: ["a", "b"] },
    ]);
    expect(skipped.map((s) => s.what)).toEqual(["archived"]);
  });
});
