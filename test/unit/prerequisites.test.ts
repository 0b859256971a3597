// prerequisitesOf: an incremental bundle lists only commits, whatever its parent's refs point at.
import { describe, expect, it } from "vitest";
import type { Snapshot } from "../../functions/core/model.js";
import { peelingOf, prerequisitesOf } from "../../functions/core/prerequisites.js";

const oid = (c: string) => c.repeat(40);
const parentOf = (fields: Partial<Snapshot>): Snapshot => ({
  id: "20261127T000000000Z-00000001",
  repo: "acme/app",
  takenAt: "2026-11-27T00:00:00.000Z",
  kind: "full",
  refs: {},
  objectKey: "k",
  size: 1,
  sha256: oid("0").slice(0, 64),
  bundleBytes: 1,
  keyRef: "local:0123456789abcdef",
  confirmedAt: "2026-11-27T00:00:00.000Z",
  ...fields,
});

// main -> commit a; v1 -> tag b -> commit c; tree -> tag d -> tree e; blob -> blob f; pr -> commit a.
const refs = {
  "refs/heads/main": oid("a"),
  "refs/tags/v1": oid("b"),
  "refs/tags/tree": oid("d"),
  "refs/tags/blob": oid("f"),
  "refs/pull/1/head": oid("a"),
};
const peeled = { "refs/tags/v1": oid("c"), "refs/tags/tree": oid("e") };
const nonCommits = ["refs/tags/blob", "refs/tags/tree"];

describe("prerequisitesOf", () => {
  it("peels tags and leaves out refs that lead to no commit, once each, sorted", () => {
    const parent = parentOf({ refs, peeled, nonCommits });
    expect(prerequisitesOf(parent, { refs: {} })).toEqual([oid("a"), oid("c")]);
  });

  it("takes every tip of a parent with no annotated tags and no odd refs", () => {
    const parent = parentOf({ refs: { "refs/heads/main": oid("a"), "refs/tags/v0": oid("9") }, peeled: {} });
    expect(prerequisitesOf(parent, { refs: {} })).toEqual([oid("9"), oid("a")]);
  });

  it("peels an older parent's tips through the source's listing, leaving out what it cannot tell", () => {
    const legacy = parentOf({
      refs: { ...refs, "refs/tags/gone": oid("7"), "refs/heads/old": oid("8") },
    });
    const source = {
      refs: { ...refs, "refs/tags/again": oid("b") },
      peeled: { ...peeled, "refs/tags/again": oid("c") },
      nonCommits,
    };
    // main, v1 (peeled to c) and old (a branch) are commits; gone is no longer listed: left out.
    expect(prerequisitesOf(legacy, source)).toEqual([oid("8"), oid("a"), oid("c")]);
    // A source that could not say which objects are commits: branches only.
    expect(prerequisitesOf(legacy, { refs, peeled })).toEqual([oid("8"), oid("a")]);
  });
});

describe("peelingOf", () => {
  it("records peeled and nonCommits only when the source said which objects are commits", () => {
    expect(peelingOf({ refs, peeled, nonCommits })).toEqual({ peeled, nonCommits });
    expect(peelingOf({ refs, peeled, nonCommits: [] })).toEqual({ peeled });
    expect(peelingOf({ refs, peeled })).toEqual({});
  });
});
