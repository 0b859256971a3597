// The registry's rules (core/lineage/registry.ts), pure: what a sighting or a state change does to a
// record, and which lineage a name leads to. Table-driven: each row a record, news, and the result.
import { describe, expect, it } from "vitest";
import {
  describeResolution,
  keyChooser,
  resolveName,
  sighted,
  withState,
  type Sighting,
} from "../../functions/core/lineage/registry.js";
import type { RepositoryRecord } from "../../functions/core/model.js";

const T = (day: number) => `2026-11-${String(day).padStart(2, "0")}T00:00:00.000Z`;
const base: RepositoryRecord = {
  id: 1,
  key: "acme/app",
  name: "acme/app",
  nameSince: T(1),
  formerNames: [],
  state: "active",
  stateAt: T(1),
};
const seen = (name: string, day: number, more: Partial<Sighting> = {}): Sighting => ({
  id: 1,
  name,
  at: T(day),
  ...more,
});

describe("sighted", () => {
  const rows: [string, RepositoryRecord | undefined, Sighting, Partial<RepositoryRecord>][] = [
    [
      "a new id is registered under the key given",
      undefined,
      seen("acme/app", 1),
      { key: "acme/app", state: "active" },
    ],
    [
      "a newer name continues the lineage: the old name becomes a former one",
      base,
      seen("acme/app2", 3),
      {
        key: "acme/app",
        name: "acme/app2",
        nameSince: T(3),
        formerNames: [{ name: "acme/app", until: T(3), how: "renamed" }],
      },
    ],
    [
      "another owner is a transfer",
      base,
      seen("beta/app", 3),
      { name: "beta/app", formerNames: [{ name: "acme/app", until: T(3), how: "transferred" }] },
    ],
    [
      "a sighting older than the name changes nothing",
      { ...base, nameSince: T(5) },
      seen("acme/old", 3),
      { name: "acme/app", formerNames: [] },
    ],
    [
      "renamed back: the name is current again, not former",
      {
        ...base,
        name: "acme/app2",
        formerNames: [{ name: "acme/app", until: T(3), how: "renamed" }],
        nameSince: T(3),
      },
      seen("acme/app", 4),
      { name: "acme/app", formerNames: [{ name: "acme/app2", until: T(4), how: "renamed" }] },
    ],
    [
      "archived on the listing",
      base,
      seen("acme/app", 2, { archived: true }),
      { state: "archived", stateAt: T(2) },
    ],
    [
      "an event without the archived flag keeps an archived record archived",
      { ...base, state: "archived" },
      seen("acme/app", 2),
      { state: "archived", stateAt: T(1) },
    ],
    [
      "seen after its deletion: it exists again (GitHub restored it)",
      { ...base, state: "deleted", stateAt: T(2) },
      seen("acme/app", 3),
      { state: "active", stateAt: T(3) },
    ],
    [
      "a listing from before the deletion leaves it deleted",
      { ...base, state: "deleted", stateAt: T(2) },
      seen("acme/app", 1),
      { state: "deleted", stateAt: T(2) },
    ],
  ];
  it.each(rows)("%s", (_what, current, sighting, expected) => {
    expect(sighted(current, sighting, "acme/app")).toMatchObject(expected);
  });
});

describe("withState", () => {
  it("sets a newer state with its reason, ignores an older one", () => {
    const detached = withState(base, "detached", T(3), "removed from the App's installation");
    expect(detached).toMatchObject({
      state: "detached",
      stateAt: T(3),
      stateReason: "removed from the App's installation",
    });
    expect(withState(detached, "deleted", T(2))).toBe(detached);
    expect(withState(detached, "deleted", T(4))).not.toHaveProperty("stateReason");
  });
});

describe("resolveName and keys", () => {
  const renamed: RepositoryRecord = {
    ...base,
    name: "acme/new",
    formerNames: [{ name: "acme/app", until: T(3), how: "renamed" }],
  };
  const deleted: RepositoryRecord = {
    ...base,
    id: 2,
    key: "acme/x",
    name: "acme/x",
    state: "deleted",
    stateAt: T(2),
  };
  const recreated: RepositoryRecord = { ...base, id: 3, key: "acme/x#3", name: "acme/x", nameSince: T(4) };
  const records = [renamed, deleted, recreated];

  const rows: [string, string, string, string][] = [
    ["a current name", "acme/new", "acme/app", "current"],
    ["a former name", "acme/app", "acme/app", "former"],
    ["a reused name leads to the repository that exists", "acme/x", "acme/x#3", "current"],
    ["a suffixed key as is", "acme/x#3", "acme/x#3", "key"],
    ["a name the registry does not know", "other/repo", "other/repo", "unregistered"],
  ];
  it.each(rows)("%s", (_what, name, key, via) => {
    const found = resolveName(name, records);
    expect([found.key, found.via]).toEqual([key, via]);
  });

  it("says where a former name led", () => {
    expect(describeResolution("acme/app", resolveName("acme/app", records))).toBe(
      "acme/app is now acme/new (renamed on 2026-11-03): using its history",
    );
    expect(describeResolution("acme/new", resolveName("acme/new", records))).toBeUndefined();
  });

  it("gives a new id its name as key unless another lineage has it", () => {
    const keyFor = keyChooser(records);
    expect(keyFor(9, "acme/fresh")).toBe("acme/fresh");
    expect(keyFor(9, "acme/x")).toBe("acme/x#9");
    expect(keyFor(2, "acme/x")).toBe("acme/x"); // its own key
  });
});
