// Uploads a restored repository's LFS objects to a remote's LFS server through the batch API's
// "upload" operation (https://github.com/git-lfs/git-lfs/blob/main/docs/api/batch.md), before its
// refs are pushed: a pointer pushed without its object would check out as a pointer. Objects the
// server already has come back without actions and are skipped. Each object is streamed from the
// restored repository's git-lfs store with its length, so memory does not grow with its size.
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { SourceError } from "../errors.js";
import { displayUrl } from "../git/transport.js";
import type { GitRemote } from "../ports.js";
import { lfsEndpoint } from "./batch.js";
import { lfsObjectsDir, lfsStoreFile } from "./paths.js";

const MEDIA_TYPE = "application/vnd.git-lfs+json";
const BATCH = 100;
const ATTEMPTS = 4;

const action = z.object({ href: z.url(), header: z.record(z.string(), z.string()).optional() });
const uploadAnswer = z.object({
  transfer: z.string().optional(),
  objects: z.array(
    z.object({
      oid: z.string(),
      size: z.number().int().nonnegative().optional(),
      actions: z.object({ upload: action.optional(), verify: action.optional() }).optional(),
      error: z.object({ code: z.number().int(), message: z.string() }).optional(),
    }),
  ),
});

export interface LfsUploadOutcome {
  /** Objects in the restored repository. */
  objects: number;
  /** Objects sent (the others the server had already). */
  uploaded: number;
  /** Bytes sent. */
  bytes: number;
}

/** The oids in a repository's git-lfs store (lfs/objects/<aa>/<bb>/<oid>), sorted. */
export async function storedLfsOids(gitDir: string): Promise<string[]> {
  const root = lfsObjectsDir(gitDir);
  const oids: string[] = [];
  for (const a of await readdir(root).catch(() => [] as string[]))
    for (const b of await readdir(join(root, a)).catch(() => [] as string[]))
      for (const name of await readdir(join(root, a, b)).catch(() => [] as string[]))
        if (/^[0-9a-f]{64}$/.test(name)) oids.push(name);
  return oids.sort();
}

/**
 * Uploads every LFS object of the repository at `gitDir` to `remote`'s LFS server. Rejects with
 * SourceError naming the object and the server when the server refuses one (an error in the batch
 * answer, a failed upload or verify after retries): the refs must not be pushed then.
 */
export async function uploadLfsObjects(gitDir: string, remote: GitRemote): Promise<LfsUploadOutcome> {
  const oids = await storedLfsOids(gitDir);
  const outcome: LfsUploadOutcome = { objects: oids.length, uploaded: 0, bytes: 0 };
  const endpoint = lfsEndpoint(remote.url);
  const where = `the LFS server of ${displayUrl(remote.url)}`;
  for (let at = 0; at < oids.length; at += BATCH) {
    const objects = await Promise.all(
      oids
        .slice(at, at + BATCH)
        .map(async (oid) => ({ oid, size: (await stat(lfsStoreFile(gitDir, oid))).size })),
    );
    const answer = await batch(endpoint, remote, objects, where);
    const answers = new Map(answer.objects.map((o) => [o.oid, o]));
    for (const { oid, size } of objects) {
      const found = answers.get(oid);
      if (!found) throw new SourceError(`${where} did not answer for LFS object ${oid}`);
      if (found.error)
        throw new SourceError(
          `${where} refused LFS object ${oid}: ${found.error.code} ${found.error.message}`,
        );
      const upload = found.actions?.upload;
      if (!upload) continue; // the server has it
      await send(
        "PUT",
        upload.href,
        headersFor(upload, endpoint, remote),
        { file: lfsStoreFile(gitDir, oid), size },
        `LFS object ${oid}`,
      );
      const verify = found.actions?.verify;
      if (verify) {
        const body = Buffer.from(JSON.stringify({ oid, size }));
        const headers = {
          ...headersFor(verify, endpoint, remote),
          "Content-Type": MEDIA_TYPE,
          Accept: MEDIA_TYPE,
        };
        await send("POST", verify.href, headers, { bytes: body }, `verifying LFS object ${oid}`);
      }
      outcome.uploaded++;
      outcome.bytes += size;
    }
  }
  return outcome;
}

async function batch(
  endpoint: string,
  remote: GitRemote,
  objects: { oid: string; size: number }[],
  where: string,
): Promise<z.infer<typeof uploadAnswer>> {
  const body = Buffer.from(
    JSON.stringify({ operation: "upload", transfers: ["basic"], objects, hash_algo: "sha256" }),
  );
  const headers = {
    "User-Agent": "git-lfs/3 (infinity-backup)",
    ...remote.headers,
    Accept: MEDIA_TYPE,
    "Content-Type": MEDIA_TYPE,
  };
  const text = await send(
    "POST",
    `${endpoint}/objects/batch`,
    headers,
    { bytes: body },
    "the LFS upload batch",
  );
  try {
    const parsed = uploadAnswer.parse(JSON.parse(text));
    if (parsed.transfer && parsed.transfer !== "basic")
      throw new SourceError(`${where} chose transfer "${parsed.transfer}", not "basic"`);
    return parsed;
  } catch (err) {
    if (err instanceof SourceError) throw err;
    throw new SourceError(`${where} answered the upload batch with an unreadable body`, { cause: err });
  }
}

/**
 * git-lfs sends the remote's credentials only to the git host itself, and only when the action
 * brings no Authorization of its own; another host gets the action's headers alone.
 */
function headersFor(
  act: z.infer<typeof action>,
  endpoint: string,
  remote: GitRemote,
): Record<string, string> {
  const header = act.header ?? {};
  const sameHost = new URL(act.href).origin === new URL(endpoint).origin;
  const ownAuth = Object.keys(header).some((name) => name.toLowerCase() === "authorization");
  return { ...(sameHost && !ownAuth ? remote.headers : {}), ...header };
}

/**
 * One request with a body of known length (a file streamed, or bytes), retried on 5xx, 429 (after
 * its retry-after) and connection failures; resolves with the answer's text (kept short).
 */
async function send(
  method: string,
  href: string,
  headers: Record<string, string>,
  body: { file: string; size: number } | { bytes: Buffer },
  what: string,
): Promise<string> {
  const where = displayUrl(href);
  for (let attempt = 1; ; attempt++) {
    let status: number | undefined;
    let text = "";
    let retryAfter: string | undefined;
    let failure: unknown;
    try {
      ({ status, text, retryAfter } = await once(method, href, headers, body));
    } catch (err) {
      failure = err;
    }
    if (status !== undefined && status < 300) return text;
    const transient = status === undefined || status >= 500 || status === 429;
    if (!transient || attempt >= ATTEMPTS) {
      const why = status === undefined ? (failure as Error).message : `HTTP ${status}${message(text)}`;
      throw new SourceError(
        `${what}: ${where} answered ${why}${transient ? ` after ${attempt} attempts` : ""}`,
        {
          ...(failure ? { cause: failure } : {}),
          permanent: !transient,
        },
      );
    }
    const seconds = Number(retryAfter);
    await sleep(
      Number.isFinite(seconds) && retryAfter ? Math.min(seconds * 1000, 30_000) : 500 * 2 ** (attempt - 1),
    );
  }
}

function once(
  method: string,
  href: string,
  headers: Record<string, string>,
  body: { file: string; size: number } | { bytes: Buffer },
): Promise<{ status: number; text: string; retryAfter?: string }> {
  const url = new URL(href);
  const length = "bytes" in body ? body.bytes.length : body.size;
  const request = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, {
    method,
    headers: { ...headers, "Content-Length": String(length) },
  });
  const answered = new Promise<IncomingMessage>((resolve, reject) => {
    request.once("response", resolve);
    request.once("error", reject);
  });
  const sent =
    "bytes" in body
      ? new Promise<void>((resolve) => request.end(body.bytes, resolve))
      : pipeline(createReadStream(body.file), request);
  // A server may answer (a refusal) before it has read the body: its answer is what counts then.
  const sendFailure = sent.then(
    () => undefined,
    (err: unknown) => err,
  );
  return answered.then(async (response) => {
    let text = "";
    for await (const chunk of response) if (text.length < 64 * 1024) text += String(chunk);
    const failed = await sendFailure;
    const status = response.statusCode ?? 0;
    if (failed && status < 300) throw failed;
    const retryAfter = response.headers["retry-after"];
    return { status, text, ...(retryAfter ? { retryAfter } : {}) };
  });
}

/** The server's JSON `message`, when it sent one, kept short. */
function message(text: string): string {
  try {
    const found = (JSON.parse(text) as { message?: unknown }).message;
    return typeof found === "string" ? `: ${found.slice(0, 200)}` : "";
  } catch {
    return "";
  }
}
