// The redaction list's transform of a metadata line: a listed login is hidden wherever a stored
// line names it (as a login string, a user object, the author of the item's text, an @mention);
// everything else, and every line naming no listed login, comes back as it was.
import { describe, expect, it } from "vitest";
import {
  REDACTED,
  redactedLogins,
  redactMetadataItem,
  redactMetadataLine,
} from "../../../functions/core/metadata/redaction.js";

const logins = redactedLogins([
  { login: "Mallory", reason: "GDPR 9", by: "cli:ann", at: "2026-12-01T00:00:00.000Z" },
]);

describe("redactMetadataLine", () => {
  it.each([
    [
      "an issue Mallory wrote: author, title and body hidden, other fields kept",
      { number: 7, title: "Leak", body: "my phone is 555", user: "mallory", state: "open", labels: ["bug"] },
      { number: 7, title: REDACTED, body: REDACTED, user: REDACTED, state: "open", labels: ["bug"] },
    ],
    [
      "a comment by someone else mentioning @Mallory and assigning her",
      { id: 1, user: "alice", body: "cc @Mallory, and @malloryx stays", assignees: ["carol", "MALLORY"] },
      { id: 1, user: "alice", body: `cc @${REDACTED}, and @malloryx stays`, assignees: ["carol", REDACTED] },
    ],
    [
      "a user object (as an uploader) becomes its login only",
      {
        id: 3,
        name: "a.zip",
        uploader: { login: "mallory", id: 42, html_url: "https://github.com/mallory" },
      },
      { id: 3, name: "a.zip", uploader: { login: REDACTED } },
    ],
    [
      "nested reviewers and bypass lists",
      {
        protection_rules: [
          { type: "required_reviewers", reviewers: [{ type: "User", reviewer: "mallory" }] },
        ],
      },
      {
        protection_rules: [{ type: "required_reviewers", reviewers: [{ type: "User", reviewer: REDACTED }] }],
      },
    ],
  ])("%s", (_name, line, expected) => {
    expect(JSON.parse(redactMetadataLine(JSON.stringify(line), logins))).toEqual(expected);
    expect(redactMetadataItem(line, logins)).toEqual(expected);
  });

  it("returns a line naming no listed login byte for byte, and changes nothing with an empty list", () => {
    const line = '{"id":1,  "user":"alice","body":"unrelated ✓"}';
    expect(redactMetadataLine(line, logins)).toBe(line);
    const hers = '{"user":"mallory","body":"x"}';
    expect(redactMetadataLine(hers, redactedLogins([]))).toBe(hers);
  });

  it("never changes the item it is given", () => {
    const item = { user: "mallory", body: "x", nested: { login: "mallory" } };
    const copy = structuredClone(item);
    redactMetadataItem(item, logins);
    expect(item).toEqual(copy);
  });
});
