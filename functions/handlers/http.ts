// Shared by the HTTP functions: JSON answers, and errors mapped to HTTP statuses with messages
// that are safe to show (never a stack trace, never a secret).
import type { Request, Response } from "@google-cloud/functions-framework";
import type { z } from "zod";
import {
  BackupError,
  ConflictError,
  describeError,
  LeaseHeldError,
  NotFoundError,
  UserInputError,
} from "../core/errors.js";
import { parseMessage } from "../core/messages.js";
import { log, redact } from "../log.js";
import { outsideDomain } from "./outside-domain.js";
import { queryAsBody } from "./query.js";

export function statusFor(err: unknown): number {
  // An error that names its own status (405 for a wrong method, a webhook's 401) keeps it.
  if (typeof (err as { status?: unknown }).status === "number") return (err as { status: number }).status;
  if (err instanceof UserInputError) return 400;
  if (err instanceof NotFoundError) return 404;
  if (err instanceof ConflictError || err instanceof LeaseHeldError) return 409;
  return err instanceof BackupError && err.permanent ? 422 : 500;
}

/**
 * Runs an HTTP function's `work` and sends what it returns, or its error as a status and a safe
 * message. The work runs outside the request's Node domain (outside-domain.ts): what it throws or
 * rejects with still comes back here, and the answer is sent from within the request's domain.
 */
export async function answer(
  name: string,
  res: Response,
  work: () => Promise<{ status?: number; body?: unknown; html?: string }>,
): Promise<void> {
  try {
    const { status = 200, body, html } = await outsideDomain(work);
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

/**
 * A request's input read by `schema`: the JSON body (unwrapped from gcloud's {"data": ...}) and the
 * query string together, the query's text typed by the schema (query.ts). A field given in both is
 * refused rather than one silently winning. Throws a UserInputError naming every bad field.
 */
export function requestInput<S extends z.ZodType>(req: Request, schema: S, what: string): z.infer<S> {
  return parseMessage(schema, rawInput(req, schema, what), what);
}

/** The body and the query as one object, before the schema judges it (for an audit entry's repo). */
export function rawInput(req: Request, schema: z.ZodType, what: string): unknown {
  const body = unwrapCallBody(req.body);
  const query = queryAsBody(req.query, schema, what);
  if (!Object.keys(query).length) return body === undefined || body === "" ? {} : body;
  if (body === undefined || body === "" || (isObject(body) && !Object.keys(body).length)) return query;
  if (!isObject(body)) throw new UserInputError(`invalid ${what}: the body must be a JSON object`);
  const both = Object.keys(query).filter((key) => key in body);
  if (both.length)
    throw new UserInputError(`invalid ${what}: ${both.join(", ")} given both in the query and in the body`);
  return { ...body, ...query };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);

/** The repository a request names (body or query), for the audit entry of a refusal before parsing. */
export function repoNamed(req: Request, schema: z.ZodType, what: string): string | undefined {
  try {
    const repo = (rawInput(req, schema, what) as { repo?: unknown }).repo;
    return typeof repo === "string" && repo.length <= 200 ? repo : undefined;
  } catch {
    return undefined; // bad input is refused after the caller check, with its reason
  }
}
