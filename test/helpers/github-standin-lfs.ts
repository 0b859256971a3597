// The GitHub stand-in's LFS side: the batch API on the git host ("<repo>.git/info/lfs/objects/batch",
// served through the git HTTP server's `lfs` hook, installation token required) and an object
// server on its own origin, as GitHub's storage is, that wants the per-object header the batch
// answer hands out and never the token. Objects can be lost (an error object in the batch answer),
// corrupted (served bytes other than the oid's) or fail with 5xx a number of times.
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { text } from "node:stream/consumers";
import type { LfsPointer } from "../../functions/core/lfs/pointer.js";

interface StoredObject {
  bytes: Buffer;
  /** Served in place of `bytes` (same length, other content): a storage fault. */
  corrupt?: boolean;
  /** The batch answers an error object (404) for it: the server lost it. */
  lost?: boolean;
}

export interface LfsBatchRequest {
  repo: string;
  /** The Authorization scheme ("Basic"), never its value. */
  auth: string;
  accept: string;
  oids: string[];
  status: number;
  /** "download" or "upload", once the body is read. */
  operation?: string;
}

export class LfsStandin {
  /** The object server's origin ("http://127.0.0.1:<port>"): not the git host. */
  objectUrl = "";
  readonly batchRequests: LfsBatchRequest[] = [];
  /** Every request the object server got, with the whole Authorization header it carried. */
  readonly objectRequests: { path: string; authorization?: string; status: number }[] = [];
  /**
   * The next `batch5xx` batch requests answer 502; the next `object5xx` downloads answer 503, the
   * next `object429` 429 with retry-after, the next `objectExpired` 403 (an expired download action), the next `upload5xx` uploads 503.
   */
  readonly faults = { batch5xx: 0, object5xx: 0, object429: 0, objectExpired: 0, upload5xx: 0 };
  /** Every upload (PUT) the object server took: its repository, oid, size and largest chunk read. */
  readonly uploads: { repo: string; oid: string; size: number; largestChunk: number }[] = [];
  /** Bytes per chunk the object server writes (to show objects are streamed). */
  chunkBytes = 16 * 1024;
  private readonly repos = new Map<string, Map<string, StoredObject>>();
  /** The header the batch answer hands out for downloads; the object server wants exactly it. */
  private readonly objectAuth = `RemoteAuth ${randomBytes(16).toString("hex")}`;
  private readonly server = createServer((req, res) => void this.serveObject(req, res));

  /** `canRead(password, repo)`: whether a Basic password is a live installation token for the repo. */
  constructor(private readonly canRead: (password: string, repo: string) => boolean) {}

  async start(): Promise<this> {
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
    this.objectUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Stores `bytes` as an LFS object of "owner/name"; returns its pointer. */
  put(repo: string, bytes: Buffer): LfsPointer {
    const oid = createHash("sha256").update(bytes).digest("hex");
    this.objectsOf(repo).set(oid, { bytes });
    return { oid, size: bytes.length };
  }

  /** From now on the object is served with other bytes of the same length. */
  corrupt(repo: string, oid: string): void {
    this.objectsOf(repo).get(oid)!.corrupt = true;
  }

  /** From now on the batch answers that the object does not exist. */
  lose(repo: string, oid: string): void {
    this.objectsOf(repo).get(oid)!.lost = true;
  }

  /** Serves "<repo>.git/info/lfs/objects/batch" (the git HTTP server's `lfs` hook). */
  async handleBatch(req: IncomingMessage, res: ServerResponse, repo: string): Promise<void> {
    const record: LfsBatchRequest = {
      repo,
      auth: (req.headers.authorization ?? "").split(" ")[0] ?? "",
      accept: req.headers.accept ?? "",
      oids: [],
      status: 0,
    };
    this.batchRequests.push(record);
    const reply = (status: number, json: unknown) => {
      record.status = status;
      res.writeHead(status, { "Content-Type": "application/vnd.git-lfs+json" });
      res.end(JSON.stringify(json));
    };
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method !== "POST" || !url.pathname.endsWith("/info/lfs/objects/batch"))
      return reply(404, { message: "Not Found" });
    if (!this.canRead(basicPassword(req), repo)) return reply(401, { message: "Credentials needed" });
    if (!record.accept.includes("application/vnd.git-lfs+json"))
      return reply(406, { message: "Not Acceptable" });
    if (this.faults.batch5xx > 0) {
      this.faults.batch5xx--;
      return reply(502, { message: "Bad Gateway" });
    }
    const body = JSON.parse(await text(req)) as {
      operation: string;
      transfers?: string[];
      objects: { oid: string; size: number }[];
    };
    record.oids = body.objects.map((o) => o.oid);
    record.operation = body.operation;
    if (!["download", "upload"].includes(body.operation) || !(body.transfers ?? ["basic"]).includes("basic"))
      return reply(422, { message: "Unsupported operation or transfer" });
    const stored = this.objectsOf(repo);
    if (body.operation === "upload") {
      // An object the server has comes back without actions; the others get an upload and a verify.
      return reply(200, {
        transfer: "basic",
        objects: body.objects.map(({ oid, size }) =>
          stored.has(oid)
            ? { oid, size }
            : {
                oid,
                size,
                authenticated: true,
                actions: {
                  upload: {
                    href: `${this.objectUrl}/${repo}/${oid}?sig=${randomBytes(8).toString("hex")}`,
                    header: { Authorization: this.objectAuth },
                    expires_in: 3600,
                  },
                  verify: {
                    href: `${this.objectUrl}/verify/${repo}`,
                    header: { Authorization: this.objectAuth },
                    expires_in: 3600,
                  },
                },
              },
        ),
      });
    }
    reply(200, {
      transfer: "basic",
      objects: body.objects.map(({ oid, size }) => {
        const object = stored.get(oid);
        if (!object || object.lost)
          return { oid, size, error: { code: 404, message: "Object does not exist" } };
        if (object.bytes.length !== size)
          return { oid, size, error: { code: 422, message: "Object size does not match" } };
        return {
          oid,
          size,
          authenticated: true,
          actions: {
            download: {
              href: `${this.objectUrl}/${repo}/${oid}?sig=${randomBytes(8).toString("hex")}`,
              header: { Authorization: this.objectAuth },
              expires_in: 3600,
            },
          },
        };
      }),
    });
  }

  private async serveObject(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.objectUrl);
    const entry = {
      path: url.pathname,
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      status: 0,
    };
    this.objectRequests.push(entry);
    const end = (status: number, message = "") => {
      entry.status = status;
      res.writeHead(status, { "Content-Type": "text/plain" });
      res.end(message);
    };
    const match = /^\/([^/]+\/[^/]+)\/([0-9a-f]{64})$/.exec(url.pathname);
    if (req.headers.authorization !== this.objectAuth) return end(401, "bad object credentials");
    if (req.method === "PUT" && match) return this.receiveObject(req, match[1]!, match[2]!, end);
    const verify = /^\/verify\/([^/]+\/[^/]+)$/.exec(url.pathname);
    if (req.method === "POST" && verify) {
      const { oid, size } = JSON.parse(await text(req)) as { oid: string; size: number };
      const object = this.repos.get(verify[1]!)?.get(oid);
      return object && object.bytes.length === size ? end(200) : end(422, "object not uploaded");
    }
    if (this.faults.objectExpired > 0) {
      this.faults.objectExpired--;
      return end(403, "Request has expired");
    }
    if (this.faults.object5xx > 0) {
      this.faults.object5xx--;
      return end(503, "try again");
    }
    if (this.faults.object429 > 0) {
      this.faults.object429--;
      entry.status = 429;
      res.writeHead(429, { "Retry-After": "0", "Content-Type": "text/plain" });
      return void res.end("slow down");
    }
    const object = match ? this.repos.get(match[1]!)?.get(match[2]!) : undefined;
    if (!object) return end(404, "no such object");
    const bytes = object.corrupt ? Buffer.from(object.bytes.map((b) => b ^ 0xff)) : object.bytes;
    entry.status = 200;
    res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": bytes.length });
    for (let at = 0; at < bytes.length; at += this.chunkBytes) {
      if (!res.write(bytes.subarray(at, at + this.chunkBytes))) await once(res, "drain");
    }
    res.end();
  }

  /** An upload (PUT): its bytes must hash to the oid and match Content-Length, as LFS servers check. */
  private async receiveObject(
    req: IncomingMessage,
    repo: string,
    oid: string,
    end: (status: number, message?: string) => void,
  ): Promise<void> {
    if (this.faults.upload5xx > 0) {
      this.faults.upload5xx--;
      req.resume();
      return end(503, "try again");
    }
    const declared = Number(req.headers["content-length"]);
    const hash = createHash("sha256");
    const chunks: Buffer[] = [];
    let largestChunk = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      hash.update(chunk);
      chunks.push(chunk);
      largestChunk = Math.max(largestChunk, chunk.length);
    }
    const bytes = Buffer.concat(chunks);
    this.uploads.push({ repo, oid, size: bytes.length, largestChunk });
    if (!Number.isFinite(declared) || declared !== bytes.length) return end(400, "Content-Length required");
    if (hash.digest("hex") !== oid) return end(422, "bytes do not match the oid");
    this.objectsOf(repo).set(oid, { bytes });
    end(200);
  }

  /** The bytes of "owner/name"'s object `oid`, or undefined. */
  bytesOf(repo: string, oid: string): Buffer | undefined {
    return this.repos.get(repo)?.get(oid)?.bytes;
  }

  private objectsOf(repo: string): Map<string, StoredObject> {
    let objects = this.repos.get(repo);
    if (!objects) this.repos.set(repo, (objects = new Map()));
    return objects;
  }
}

function basicPassword(req: IncomingMessage): string {
  const match = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? "");
  if (!match) return "";
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  return decoded.slice(decoded.indexOf(":") + 1);
}
