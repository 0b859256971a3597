// The line schemas: GitHub's objects in, the trimmed archive lines out; anything else a
// MetadataFormatError that names where and quotes nothing.
import { describe, expect, it } from "vitest";
import type { Answer } from "../../../functions/adapters/github/metadata-http.js";
import { hookLine } from "../../../functions/adapters/github/metadata-lines-access.js";
import { releaseLine } from "../../../functions/adapters/github/metadata-lines-repo.js";
import {
  issueCommentLine,
  issueEventLine,
  issueLine,
  timelineEvent,
} from "../../../functions/adapters/github/metadata-lines-work.js";
import { parseList, parseOne } from "../../../functions/adapters/github/metadata-parse.js";
import { MetadataFormatError } from "../../../functions/core/metadata/errors.js";

const answer = (data: unknown): Answer => ({ path: "/x", data });
const issue = {
  id: 1,
  number: 7,
  title: "T",
  body: null,
  user: { login: "alice", id: 1, url: "https://api.github.com/users/alice" },
  state: "open",
  locked: false,
  labels: [{ name: "bug", url: "u" }, "question"],
  assignees: [{ login: "bob" }],
  milestone: { number: 2, title: "v2" },
  comments: 3,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-02T00:00:00Z",
  closed_at: null,
  url: "https://api.github.com/repos/a/b/issues/7",
  pull_request: { url: "x" },
};

describe("metadata line schemas", () => {
  it("trims an issue to names and numbers, and marks a pull request", () => {
    const line = parseOne(answer(issue), issueLine, "reading issues");
    expect(line).toMatchObject({
      number: 7,
      user: "alice",
      labels: ["bug", "question"],
      assignees: ["bob"],
      milestone: 2,
      is_pull_request: true,
    });
    expect(line).not.toHaveProperty("url");
    expect(line).not.toHaveProperty("pull_request");
    expect(parseOne(answer({ ...issue, pull_request: undefined, user: null }), issueLine, "x")).toMatchObject(
      {
        is_pull_request: false,
        user: null,
      },
    );
  });

  it("names a comment's issue by the number at the end of its issue_url", () => {
    const comment = {
      id: 9,
      issue_url: "https://api.github.com/repos/a/b/issues/42",
      user: { login: "c" },
      body: "hi",
      created_at: "t",
      updated_at: "t",
    };
    expect(parseOne(answer(comment), issueCommentLine, "x")).toMatchObject({ id: 9, issue_number: 42 });
    expect(() => parseOne(answer({ ...comment, issue_url: "nope" }), issueCommentLine, "x")).toThrow(
      MetadataFormatError,
    );
  });

  it("keys a cross-reference, which has no id, by what referred to it and when", () => {
    const event = parseOne(
      answer({
        event: "cross-referenced",
        actor: { login: "a" },
        created_at: "2026-01-01T00:00:00Z",
        source: { type: "issue", issue: { number: 3, repository: { full_name: "a/b" }, pull_request: {} } },
      }),
      timelineEvent,
      "x",
    );
    expect(issueEventLine(1, event)).toEqual({
      issue_number: 1,
      key: "cross-referenced:a/b#3@2026-01-01T00:00:00Z",
      event: "cross-referenced",
      actor: "a",
      created_at: "2026-01-01T00:00:00Z",
      source: { type: "issue", repository: "a/b", number: 3, title: null, is_pull_request: true },
    });
  });

  it("never keeps a webhook's secret", () => {
    const hook = {
      id: 1,
      name: "web",
      active: true,
      events: ["push"],
      config: { url: "https://h.example", content_type: "json", secret: "s3cret", insecure_ssl: "0" },
      created_at: "t",
      updated_at: "t",
    };
    expect(JSON.stringify(parseOne(answer(hook), hookLine, "x"))).not.toContain("s3cret");
  });

  it("gives each uploaded release asset its archive path, and none to one still uploading", () => {
    const asset = (id: number, state: string) => ({
      id,
      name: `f${id}`,
      content_type: "a/b",
      state,
      size: 1,
      download_count: 0,
      created_at: "t",
      updated_at: "t",
    });
    const release = {
      id: 5,
      tag_name: "v1",
      target_commitish: "main",
      draft: false,
      prerelease: false,
      created_at: "t",
      published_at: null,
      assets: [asset(1, "uploaded"), asset(2, "open")],
    };
    expect(parseOne(answer(release), releaseLine, "x").assets.map((a) => a.path)).toEqual([
      "meta/assets/5/1",
      null,
    ]);
  });

  it("refuses garbage with a MetadataFormatError that says where and quotes nothing", () => {
    const list = (data: unknown, itemsKey?: string) => () =>
      parseList(answer(data), issueLine, "reading issues of a/b", itemsKey);
    expect(list("<html>secret page</html>")).toThrow(/reading issues of a\/b: .*expected a list/);
    expect(list({ variables: 1 }, "variables")).toThrow(/expected a list in "variables"/);
    let err: unknown;
    try {
      list([issue, { ...issue, number: "seven" }])();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MetadataFormatError);
    expect((err as Error).message).toMatch(/\[1\]\.number/);
    expect((err as Error).message).not.toContain("seven");
  });
});
