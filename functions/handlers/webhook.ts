// githubWebhook (HTTP, public; GitHub's signature is the gate): a verified push becomes one
// snapshot request, so the RPO is the time to snapshot after a push, not the next sweep.
import type { Request, Response } from "@google-cloud/functions-framework";
import type { AppProvider } from "../app.js";
import { log } from "../log.js";
import { answer, requirePost } from "./http.js";

export function webhookHandler(getApp: AppProvider) {
  return (req: Request, res: Response) =>
    answer("githubWebhook", res, async () => {
      requirePost(req, res);
      const app = await getApp();
      const result = await app.webhooks.receive({
        headers: req.headers,
        rawBody: (req as Request & { rawBody?: Buffer }).rawBody ?? Buffer.alloc(0),
        now: app.clock.now(),
      });
      if (result.kind === "snapshot") {
        await app.publisher.publish("snapshot-requests", [result.request]);
        log("INFO", `push to ${result.request.repo}: snapshot requested`, {
          event: "push_received",
          repo: result.request.repo,
          deliveryId: result.request.deliveryId,
        });
      }
      return { status: result.status, body: { ok: true, result: result.kind, message: result.message } };
    });
}
