// githubWebhook (HTTP, public; GitHub's signature is the gate): a verified push becomes one
// snapshot request, so the RPO is the time to snapshot after a push, not the next sweep. The body
// reaches us raw and capped (raw-body.ts); a redelivered event is acknowledged, not published again.
import type { IncomingMessage } from "node:http";
import type { Request, Response } from "@google-cloud/functions-framework";
import type { AppProvider } from "../app.js";
import { applyInventoryEvent } from "../core/lineage/inventory.js";
import { log } from "../log.js";
import { answer, requirePost } from "./http.js";
import type { RawBodyOptions, Refusal } from "./raw-body.js";

/** GitHub caps a webhook payload at 25 MB and does not send larger ones. */
export const WEBHOOK_MAX_BYTES = 25 * 1024 * 1024;

/**
 * How long a delivery id counts as seen. GitHub lets a delivery be redelivered for three days, and
 * its automatic retries come sooner; a day more covers a redelivery at the end of that window.
 */
export const DELIVERY_TTL_MS = 4 * 24 * 3600 * 1000;

/** Refused on the headers: a wrong method, or no signature (nothing unsigned is read). */
export function webhookPrecheck(req: IncomingMessage): Refusal | undefined {
  if (req.method !== "POST") {
    return { status: 405, message: `use POST, not ${req.method}`, headers: { Allow: "POST" } };
  }
  if (!req.headers["x-hub-signature-256"]) {
    return {
      status: 401,
      message: "missing x-hub-signature-256 header (is a webhook secret set on the GitHub App?)",
    };
  }
  return undefined;
}

/** The gate of the deployed function: 25 MB a request, two such bodies in memory at once. */
export const WEBHOOK_BODY: RawBodyOptions = {
  maxBytes: WEBHOOK_MAX_BYTES,
  budgetBytes: 2 * WEBHOOK_MAX_BYTES,
  precheck: webhookPrecheck,
};

export function webhookHandler(getApp: AppProvider) {
  return (req: Request, res: Response) =>
    answer("githubWebhook", res, async () => {
      requirePost(req, res);
      const app = await getApp();
      const now = app.clock.now();
      const result = await app.webhooks.receive({
        headers: req.headers,
        rawBody: (req as Request & { rawBody?: Buffer }).rawBody ?? Buffer.alloc(0),
        now,
      });
      if (result.kind === "inventory") {
        // Idempotent (each change is dated and older news is ignored), so a redelivery is harmless.
        const header = req.headers["x-github-delivery"];
        const deliveryId = typeof header === "string" ? header : undefined;
        const applied = await applyInventoryEvent(app, result.event, deliveryId);
        const states = applied.records.map((r) => `${r.name} ${r.state}`).join(", ");
        log("INFO", `${result.message}: ${states || "no repository"}`, {
          event: "inventory_applied",
          requested: applied.requested,
          deliveryId,
        });
        const body = { ok: true, result: result.kind, message: result.message, requested: applied.requested };
        return { status: result.status, body };
      }
      if (result.kind !== "snapshot") {
        return { status: result.status, body: { ok: true, result: result.kind, message: result.message } };
      }
      const { repo, deliveryId } = result.request;
      if (deliveryId && !(await app.deliveries.firstSeen(deliveryId, DELIVERY_TTL_MS, now))) {
        log("INFO", `delivery ${deliveryId} for ${repo} seen before: not published again`, {
          event: "push_duplicate",
          repo,
          deliveryId,
        });
        return {
          status: 202,
          body: { ok: true, result: "duplicate", message: `delivery ${deliveryId} was already received` },
        };
      }
      try {
        await app.publisher.publish("snapshot-requests", [result.request]);
      } catch (err) {
        // Not published: GitHub's redelivery of this id must get through.
        if (deliveryId) await app.deliveries.forget(deliveryId).catch(() => undefined);
        throw err;
      }
      log("INFO", `push to ${repo}: snapshot requested`, { event: "push_received", repo, deliveryId });
      return { status: result.status, body: { ok: true, result: result.kind, message: result.message } };
    });
}
