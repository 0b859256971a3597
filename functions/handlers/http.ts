// Shared by the HTTP functions: JSON answers, and errors mapped to HTTP statuses with messages
// that are safe to show (never a stack trace, never a secret).
import type { Request, Response } from "@google-cloud/functions-framework";
import { BackupError, ConflictError, describeError, NotFoundError, UserInputError } from "../core/errors.js";
import { log, redact } from "../log.js";

export function statusFor(err: unknown): number {
  // An error that names its own status (405 for a wrong method, a webhook's 401) keeps it.
  if (typeof (err as { status?: unknown }).status === "number") return (err as { status: number }).status;
  if (err instanceof UserInputError) return 400;
  if (err instanceof NotFoundError) return 404;
  if (err instanceof ConflictError) return 409;
  return err instanceof BackupError && err.permanent ? 422 : 500;
}

export async function answer(
  name: string,
  res: Response,
  work: () => Promise<{ status?: number; body?: unknown; html?: string }>,
): Promise<void> {
  try {
    const { status = 200, body, html } = await work();
    if (html !== undefined) res.status(status).type("html").set("Cache-Control", "no-store").send(html);
    else res.status(status).json(body);
  } catch (err) {
    const status = statusFor(err);
    const message = redact(describeError(err));
    log(status >= 500 ? "ERROR" : "WARNING", `${name}: ${message}`, { event: `${name}_error`, status });
    res.status(status).json({ error: message });
  }
}

/** `gcloud functions call` wraps the body as {"data": ...}; Scheduler and plain POSTs send it bare. */
export function unwrapCallBody(body: unknown): unknown {
  return body && typeof body === "object" && "data" in body && Object.keys(body).length === 1
    ? (body as { data: unknown }).data
    : body;
}

export function requirePost(req: Request, res?: Response): void {
  if (req.method !== "POST") {
    res?.set("Allow", "POST");
    throw Object.assign(new UserInputError(`use POST, not ${req.method}`), { status: 405 });
  }
}
