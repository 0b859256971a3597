// A GitHub webhook delivery in, a decision out: verify the signature over the raw bytes, then turn a
// push or a metadata event into a SnapshotRequest, an inventory event into an InventoryEvent. Pure of its inputs; the Cloud Function handler does the I/O.
import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { repoNameSchema } from "../../core/ids.js";
import { snapshotRequestSchema } from "../../core/messages.js";
import type { WebhookOutcome, WebhookReceiver } from "../../core/ports.js";
import { WebhookError } from "./errors.js";
import { INVENTORY_EVENTS, parseInventoryEvent } from "./webhook-inventory.js";

export interface PushDelivery {
  /** Request headers as Node gives them; names are matched case-insensitively. */
  headers: Record<string, string | string[] | undefined>;
  /** The body exactly as received: the signature covers these bytes, not a re-serialisation. */
  rawBody: Buffer | string;
  secret: string;
  now: Date;
}

export type PushDeliveryResult = WebhookOutcome;

/** The WebhookReceiver of a GitHub App: its webhook secret, checked on every delivery. */
export class GitHubWebhookReceiver implements WebhookReceiver {
  constructor(private readonly secret: string) {}

  receive(delivery: Omit<PushDelivery, "secret">): Promise<WebhookOutcome> {
    return parsePushDelivery({ ...delivery, secret: this.secret });
  }
}

/**
 * Events that change what a snapshot's metadata holds: each asks for a snapshot of its repository.
 * A burst (50 comments) coalesces: a request is satisfied by any snapshot taken after it was made.
 */
export const METADATA_EVENTS: ReadonlySet<string> = new Set([
  "issues",
  "issue_comment",
  "pull_request",
  "pull_request_review",
  "pull_request_review_comment",
  "release",
  "label",
  "milestone",
  "discussion",
  "discussion_comment",
  "branch_protection_rule",
  "repository_ruleset",
]);

// The payload fields we use, and only those: GitHub adds fields freely.
const pushPayloadSchema = z.object({
  repository: z.object({
    full_name: repoNameSchema,
  }),
});

function header(headers: PushDelivery["headers"], name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

/**
 * Verifies and reads one delivery. Rejects with WebhookError: 401 for a missing or wrong signature
 * (checked before the body is parsed), 400 for a body or header that is not a usable push, 500
 * when no secret is configured. A push that deletes a branch is still a snapshot: refs changed.
 */
/** GitHub's "sha256=<hex>" over the raw body with the webhook secret, compared in constant time. */
export function signatureMatches(raw: Buffer, signature: string, secret: string): boolean {
  const hex = /^sha256=([0-9a-f]{64})$/i.exec(signature.trim())?.[1];
  if (!hex) return false;
  return timingSafeEqual(Buffer.from(hex, "hex"), createHmac("sha256", secret).update(raw).digest());
}

export async function parsePushDelivery(delivery: PushDelivery): Promise<PushDeliveryResult> {
  const { headers, secret, now } = delivery;
  if (!secret) throw new WebhookError(500, "the webhook secret is not configured");
  const signature = header(headers, "x-hub-signature-256");
  if (!signature)
    throw new WebhookError(
      401,
      "missing x-hub-signature-256 header (is a webhook secret set on the GitHub App?)",
    );
  const raw = typeof delivery.rawBody === "string" ? Buffer.from(delivery.rawBody, "utf8") : delivery.rawBody;
  if (raw.length === 0) throw new WebhookError(400, "empty request body");
  // The HMAC is over the bytes as they came, not over a decoding of them.
  if (!signatureMatches(raw, signature, secret))
    throw new WebhookError(
      401,
      "x-hub-signature-256 does not match the body (wrong secret, or the body was altered)",
    );
  const body = raw.toString("utf8");

  const event = header(headers, "x-github-event");
  if (!event) throw new WebhookError(400, "missing x-github-event header");
  if (event === "ping") return { kind: "ping", status: 200, message: "pong" };
  if (event !== "push" && !METADATA_EVENTS.has(event) && !INVENTORY_EVENTS.has(event))
    return { kind: "ignored", status: 202, message: `ignored: ${event}` };

  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new WebhookError(400, `${event} payload is not valid JSON`);
  }
  if (INVENTORY_EVENTS.has(event)) {
    const inventory = parseInventoryEvent(event, json);
    if (typeof inventory === "object")
      return { kind: "inventory", status: 202, message: `${event}: ${inventory.kind}`, event: inventory };
    if (inventory !== "metadata") return { kind: "ignored", status: 202, message: inventory };
  }
  const payload = pushPayloadSchema.safeParse(json);
  if (!payload.success) {
    const problems = payload.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`);
    throw new WebhookError(400, `invalid push payload: ${problems.join("; ")}`);
  }

  const deliveryId = header(headers, "x-github-delivery");
  const request = snapshotRequestSchema.safeParse({
    v: 1,
    repo: payload.data.repository.full_name,
    reason: event === "push" ? "push" : "event",
    requestedAt: now.toISOString(),
    ...(deliveryId ? { deliveryId } : {}),
  });
  if (!request.success) {
    const problems = request.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new WebhookError(
      400,
      `push delivery does not make a valid snapshot request: ${problems.join("; ")}`,
    );
  }
  const repo = request.data.repo;
  return { kind: "snapshot", status: 202, message: `snapshot requested for ${repo}`, request: request.data };
}
