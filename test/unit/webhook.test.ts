// parsePushDelivery: signatures computed here with node:crypto (not the library under test), then
// every answer the handler can give GitHub, and no secret in any message.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { WebhookError } from "../../functions/adapters/github/errors.js";
import { parsePushDelivery, type PushDelivery } from "../../functions/adapters/github/webhook.js";
import { snapshotRequestSchema } from "../../functions/core/messages.js";

const secret = "whsec-3f1a9c7d-do-not-leak";
const now = new Date("2026-11-27T10:15:00.000Z");

const pushBody = JSON.stringify({
  ref: "refs/heads/main",
  before: "1".repeat(40),
  after: "2".repeat(40),
  deleted: false,
  repository: { id: 1, full_name: "acme/app", name: "app", owner: { login: "acme" } },
  sender: { login: "octocat" },
});
const deleteBody = JSON.stringify({
  ref: "refs/heads/old",
  before: "1".repeat(40),
  after: "0".repeat(40),
  deleted: true,
  repository: { full_name: "acme/app" },
});

const sign = (body: string, key = secret) => `sha256=${createHmac("sha256", key).update(body).digest("hex")}`;

/** `signature` null sends none; left out, the right one is sent. */
function delivery(
  event: string | undefined,
  body: string,
  signature: string | null = sign(body),
): PushDelivery {
  const headers: PushDelivery["headers"] = {
    "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    "content-type": "application/json",
  };
  if (event !== undefined) headers["X-GitHub-Event"] = event; // mixed case on purpose: matched case-insensitively
  if (signature !== null) headers["x-hub-signature-256"] = signature;
  return { headers, rawBody: Buffer.from(body, "utf8"), secret, now };
}

async function refusal(input: PushDelivery): Promise<WebhookError> {
  const err = await parsePushDelivery(input).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WebhookError);
  const refused = err as WebhookError;
  expect(refused.message).not.toContain(secret);
  expect(String(refused.stack)).not.toContain(secret);
  return refused;
}

describe("parsePushDelivery", () => {
  it("turns a signed push into a valid snapshot request", async () => {
    const result = await parsePushDelivery(delivery("push", pushBody));
    expect(result).toEqual({
      kind: "snapshot",
      status: 202,
      message: "snapshot requested for acme/app",
      request: {
        v: 1,
        repo: "acme/app",
        reason: "push",
        requestedAt: now.toISOString(),
        deliveryId: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
      },
    });
    if (result.kind === "snapshot")
      expect(snapshotRequestSchema.parse(result.request)).toEqual(result.request);
  });

  it("accepts the body as a string and headers given as arrays", async () => {
    const input = delivery("push", pushBody);
    const result = await parsePushDelivery({
      ...input,
      rawBody: pushBody,
      headers: { ...input.headers, "x-hub-signature-256": [sign(pushBody)] },
    });
    expect(result.kind).toBe("snapshot");
  });

  it("still snapshots a push that deletes a branch: the refs changed", async () => {
    const result = await parsePushDelivery(delivery("push", deleteBody));
    expect(result.kind).toBe("snapshot");
  });

  it("leaves deliveryId out when GitHub sent none", async () => {
    const input = delivery("push", pushBody);
    delete input.headers["x-github-delivery"];
    const result = await parsePushDelivery(input);
    expect(result.kind === "snapshot" && result.request).toEqual({
      v: 1,
      repo: "acme/app",
      reason: "push",
      requestedAt: now.toISOString(),
    });
  });

  it("answers a ping with 200 and ignores other events with 202", async () => {
    const ping = JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1 });
    expect(await parsePushDelivery(delivery("ping", ping))).toEqual({
      kind: "ping",
      status: 200,
      message: "pong",
    });
    expect(await parsePushDelivery(delivery("workflow_run", pushBody))).toEqual({
      kind: "ignored",
      status: 202,
      message: "ignored: workflow_run",
    });
  });

  it.each(["issues", "issue_comment", "pull_request_review", "release", "label", "repository_ruleset"])(
    "a signed %s event asks for a snapshot of its repository (its metadata changed)",
    async (event) => {
      const result = await parsePushDelivery(delivery(event, pushBody));
      expect(result).toMatchObject({
        kind: "snapshot",
        status: 202,
        request: { repo: "acme/app", reason: "event" },
      });
    },
  );

  const unsigned: [string, () => PushDelivery][] = [
    ["a missing signature", () => delivery("push", pushBody, null)],
    [
      "a signature made with another secret",
      () => delivery("push", pushBody, sign(pushBody, "another-secret")),
    ],
    [
      "a signature of other bytes",
      () => ({ ...delivery("push", pushBody), rawBody: pushBody.replace("acme/app", "acme/evil") }),
    ],
    ["a malformed signature", () => delivery("push", pushBody, "sha256=zz")],
    [
      "a sha1 signature in the sha256 header",
      () => delivery("push", pushBody, `sha1=${createHmac("sha1", secret).update(pushBody).digest("hex")}`),
    ],
  ];
  it.each(unsigned)("refuses %s with 401, before looking at the event", async (_, make) => {
    const err = await refusal(make());
    expect(err.status).toBe(401);
    expect(err.permanent).toBe(true);
    // Even a ping or an ignored event must be signed: nothing is answered 2xx unverified.
    const asPing = make();
    asPing.headers["X-GitHub-Event"] = "ping";
    expect((await refusal(asPing)).status).toBe(401);
  });

  it("checks the signature over the raw bytes, not over a decoding of them", async () => {
    // Bytes that are not UTF-8: decoding them replaces them, so a signature over the decoded text
    // is not one over what was sent.
    const raw = Buffer.concat([
      Buffer.from('{"repository":{"full_name":"acme/app"},"x":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    const overBytes = `sha256=${createHmac("sha256", secret).update(raw).digest("hex")}`;
    const overText = `sha256=${createHmac("sha256", secret).update(raw.toString("utf8")).digest("hex")}`;
    const base = delivery("push", "");
    const accepted = await parsePushDelivery({
      ...base,
      rawBody: raw,
      headers: { ...base.headers, "x-hub-signature-256": overBytes },
    });
    expect(accepted).toMatchObject({ kind: "snapshot", request: { repo: "acme/app" } });
    const refused = await refusal({
      ...base,
      rawBody: raw,
      headers: { ...base.headers, "x-hub-signature-256": overText },
    });
    expect(refused.status).toBe(401);
  });

  const malformed: [string, string, RegExp][] = [
    ["a body that is not JSON", "{not json", /not valid JSON/],
    ["a push with no repository", JSON.stringify({ ref: "refs/heads/main" }), /repository: /],
    [
      "a push with no repository.full_name",
      JSON.stringify({ repository: { name: "app" } }),
      /repository\.full_name: /,
    ],
    [
      "a push with a full_name that is not owner/name",
      JSON.stringify({ repository: { full_name: "../../etc" } }),
      /repository\.full_name: expected "owner\/name"/,
    ],
    ["a JSON array", "[]", /\(body\)|repository/],
  ];
  it.each(malformed)("refuses %s with 400 naming the field", async (_, body, why) => {
    const err = await refusal(delivery("push", body));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(why);
  });

  it("refuses a delivery without an event header, or with an empty body, with 400", async () => {
    expect((await refusal(delivery(undefined, pushBody))).message).toMatch(/x-github-event/);
    expect((await refusal(delivery("push", ""))).status).toBe(400);
  });

  it("refuses a delivery id the snapshot request cannot carry with 400", async () => {
    const input = delivery("push", pushBody);
    input.headers["x-github-delivery"] = "x".repeat(500);
    expect((await refusal(input)).message).toMatch(/deliveryId/);
  });

  it("answers 500 when no secret is configured, without verifying anything", async () => {
    const err = await refusal({ ...delivery("push", pushBody), secret: "" });
    expect(err.status).toBe(500);
    expect(err.permanent).toBe(false);
  });
});
