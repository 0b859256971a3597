// Inventory webhooks (installation, installation_repositories, repository) through the whole
// receiver: signed here with node:crypto, read into InventoryEvents, a bad payload a 400 naming the
// field. Table-driven: each row is a delivery GitHub sends and what it must mean.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { WebhookError } from "../../functions/adapters/github/errors.js";
import { parsePushDelivery } from "../../functions/adapters/github/webhook.js";

const secret = "whsec-inventory-test";
const now = new Date("2026-11-27T10:15:00.000Z");
const repo = { id: 4242, full_name: "acme/app", name: "app", owner: { login: "acme" }, archived: false };

function receive(event: string, payload: unknown) {
  const body = JSON.stringify(payload);
  const signature = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
  return parsePushDelivery({
    headers: { "x-github-event": event, "x-hub-signature-256": signature, "x-github-delivery": "d-1" },
    rawBody: body,
    secret,
    now,
  });
}

const cases: [string, string, unknown, unknown][] = [
  [
    "a repository created",
    "repository",
    { action: "created", repository: repo, installation: { id: 7 } },
    { kind: "appeared", repos: [{ id: 4242, name: "acme/app" }], why: "created", installationId: 7 },
  ],
  [
    "a rename (the payload names the new repository, changes the old name)",
    "repository",
    {
      action: "renamed",
      repository: { ...repo, full_name: "acme/app2", name: "app2" },
      changes: { repository: { name: { from: "app" } } },
    },
    { kind: "renamed", repo: { id: 4242, name: "acme/app2" }, from: "acme/app", how: "renamed" },
  ],
  [
    "a transfer from an organization",
    "repository",
    {
      action: "transferred",
      repository: { ...repo, full_name: "beta/app" },
      changes: { owner: { from: { organization: { login: "acme" } } } },
    },
    { kind: "renamed", repo: { id: 4242, name: "beta/app" }, from: "acme/app", how: "transferred" },
  ],
  [
    "a transfer from a user",
    "repository",
    {
      action: "transferred",
      repository: { ...repo, full_name: "beta/app" },
      changes: { owner: { from: { user: { login: "octocat" } } } },
    },
    { kind: "renamed", repo: { id: 4242, name: "beta/app" }, from: "octocat/app", how: "transferred" },
  ],
  [
    "archived",
    "repository",
    { action: "archived", repository: { ...repo, archived: true } },
    { kind: "archived", repo: { id: 4242, name: "acme/app" }, archived: true },
  ],
  [
    "unarchived",
    "repository",
    { action: "unarchived", repository: repo },
    { kind: "archived", repo: { id: 4242, name: "acme/app" }, archived: false },
  ],
  [
    "made public",
    "repository",
    { action: "publicized", repository: repo },
    { kind: "changed", repo: { id: 4242, name: "acme/app" }, what: "publicized" },
  ],
  [
    "deleted",
    "repository",
    { action: "deleted", repository: repo, installation: { id: 7 } },
    { kind: "deleted", repo: { id: 4242, name: "acme/app" } },
  ],
  [
    "the App installed with some repositories",
    "installation",
    { action: "created", installation: { id: 7 }, repositories: [{ id: 1, full_name: "acme/a" }] },
    { kind: "appeared", repos: [{ id: 1, name: "acme/a" }], why: "installed", installationId: 7 },
  ],
  [
    "the App uninstalled",
    "installation",
    { action: "deleted", installation: { id: 7 } },
    { kind: "detached", why: "the App was uninstalled", installationId: 7 },
  ],
  [
    "the installation suspended",
    "installation",
    { action: "suspend", installation: { id: 7 } },
    { kind: "detached", why: "the App's installation was suspended", installationId: 7 },
  ],
  [
    "repositories added to the installation",
    "installation_repositories",
    { action: "added", installation: { id: 7 }, repositories_added: [{ id: 2, full_name: "acme/b" }] },
    { kind: "appeared", repos: [{ id: 2, name: "acme/b" }], why: "added", installationId: 7 },
  ],
  [
    "repositories removed from the installation",
    "installation_repositories",
    { action: "removed", installation: { id: 7 }, repositories_removed: [{ id: 2, full_name: "acme/b" }] },
    {
      kind: "detached",
      repos: [{ id: 2, name: "acme/b" }],
      why: "removed from the App's installation",
      installationId: 7,
    },
  ],
];

describe("inventory webhooks", () => {
  it.each(cases)("%s", async (_what, event, payload, expected) => {
    const outcome = await receive(event, payload);
    expect(outcome).toMatchObject({ kind: "inventory", status: 202 });
    expect(outcome.kind === "inventory" && outcome.event).toEqual(expected);
  });

  it("a repository edited (settings) is a snapshot request, as the other metadata events", async () => {
    const outcome = await receive("repository", { action: "edited", repository: repo });
    expect(outcome).toMatchObject({ kind: "snapshot", request: { repo: "acme/app", reason: "event" } });
  });

  it("an installation change that moves no repository is acknowledged and ignored", async () => {
    const outcome = await receive("installation", {
      action: "new_permissions_accepted",
      installation: { id: 7 },
    });
    expect(outcome).toMatchObject({ kind: "ignored", status: 202 });
  });

  const bad: [string, string, unknown, RegExp][] = [
    ["no id", "repository", { action: "deleted", repository: { full_name: "acme/app" } }, /repository\.id/],
    [
      "a name that is not owner/name",
      "repository",
      { action: "created", repository: { id: 1, full_name: "nope" } },
      /repository\.full_name/,
    ],
    ["a rename without its old name", "repository", { action: "renamed", repository: repo }, /changes/],
    [
      "a transfer without its old owner",
      "repository",
      { action: "transferred", repository: repo, changes: { owner: { from: {} } } },
      /changes\.owner\.from/,
    ],
    [
      "an installation without its id",
      "installation",
      { action: "deleted", installation: {} },
      /installation\.id/,
    ],
    [
      "an added repository with a string id",
      "installation_repositories",
      { action: "added", installation: { id: 7 }, repositories_added: [{ id: "1", full_name: "acme/a" }] },
      /repositories_added\.0\.id/,
    ],
  ];
  it.each(bad)("refuses %s with a 400 naming the field", async (_what, event, payload, field) => {
    const err = await receive(event, payload).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WebhookError);
    expect((err as WebhookError).status).toBe(400);
    expect((err as WebhookError).message).toMatch(field);
    expect((err as WebhookError).message).toMatch(new RegExp(`invalid ${event} payload`));
  });
});
