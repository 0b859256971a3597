// Attachments with the real @octokit clients against the GitHub stand-in and its user-content hosts:
// every attachment linked from issue, comment, pull request, review, release and discussion bodies
// is stored once by content, byte for byte what the hosts served; a 404 is recorded, not a failure;
// one over the cap is recorded with why; the token goes to GitHub's web host only, never to a storage
// or image host, and never into a file, an error or a stored URL; a second collection reads none again.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { writeArchive } from "../../functions/core/archive/writer.js";
import { SourceError } from "../../functions/core/errors.js";
import { parseJsonl } from "../../functions/core/metadata/jsonl.js";
import { attachmentPath, kindPath } from "../../functions/core/metadata/paths.js";
import { fillAttachments, type AttachmentFixture } from "../helpers/github-attachments-fixture.js";
import { fillDiscussions } from "../helpers/github-discussions-fixture.js";
import { at, fillMetadata } from "../helpers/github-metadata-fixture.js";
import type { GitHubStandin } from "../helpers/github-standin.js";
import { drain, startMetadataStandin, type Drained, type MetadataStandin } from "../helpers/github-world.js";

const APP_ID = 737373;
const REPO = "acme/app";
const CAP = 512 * 1024;

let standin: MetadataStandin;
let github: GitHubStandin;
let fixture: AttachmentFixture;

/** The stand-in's user-content hosts stand for GitHub's; attachments over CAP are not stored. */
const source = () => {
  const { web, images, privateImages } = github.userContent.origins;
  return standin.source({ userContent: { web, images: [images, privateImages] }, attachmentMaxBytes: CAP });
};

const index = (d: Drained) => parseJsonl(d.files.get(kindPath("attachments"))!.toString("utf8"));
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const blobs = (d: Drained) => [...d.files.keys()].filter((p) => p.startsWith("meta/attachments/"));

/** What a collection writes besides the attachments' own bytes: its JSONL files, summary and checkpoint. */
const leftBehind = (d: Drained) =>
  [...d.files]
    .filter(([p]) => p.endsWith(".jsonl"))
    .map(([, b]) => b.toString("utf8"))
    .join("") + JSON.stringify(d.summary);

let full: Drained;
let discussionLinks: string[];

beforeAll(async () => {
  standin = await startMetadataStandin(APP_ID);
  github = standin.github;
  const meta = github.addRepo(REPO);
  fillMetadata(meta, { repo: REPO, issues: 12, comments: 20 });
  fixture = fillAttachments(meta, REPO, github.userContent.origins, { bigBytes: CAP });
  const { web } = github.userContent.origins;
  const path = `/user-attachments/assets/${randomUUID()}`;
  const bytes = randomBytes(20_000);
  meta.attachments.set(path, { host: "web", bytes, contentType: "image/webp" });
  fixture.stored.set(`${web}${path}`, { bytes, contentType: "image/webp" });
  discussionLinks = [`${web}${path}`];
  fillDiscussions(meta, { discussions: 3, extraBody: `![diagram](${web}${path})` });
  full = await drain(source().collect(REPO));
});

afterEach(() => {
  github.clearFaults();
  github.userContent.faults.length = 0;
});

afterAll(async () => {
  await github?.close();
});

describe("attachments: a full collection", () => {
  it("indexes every attachment linked from any body, and only those", () => {
    const lines = index(full);
    const expected = [...fixture.stored.keys(), ...fixture.missing, ...fixture.tooLarge].sort();
    expect(lines.map((l) => l.url)).toEqual(expected);
    expect(full.summary.kinds.attachments).toEqual({ state: "full", items: expected.length });
    for (const url of fixture.ignored) expect(lines.some((l) => String(l.url).includes(url))).toBe(false);
    expect(discussionLinks.every((url) => lines.some((l) => l.url === url))).toBe(true);
  });

  it("stores each content once, named by its SHA-256, byte for byte what the hosts served", () => {
    const lines = index(full);
    for (const [url, served] of fixture.stored) {
      const line = lines.find((l) => l.url === url)!;
      const hash = sha256(served.bytes);
      expect(line, url).toEqual({
        url,
        state: "stored",
        path: attachmentPath(hash),
        sha256: hash,
        size: served.bytes.length,
        content_type: served.contentType,
      });
      expect(full.files.get(attachmentPath(hash))!.equals(served.bytes), url).toBe(true);
    }
    const contents = new Set([...fixture.stored.values()].map((s) => sha256(s.bytes)));
    expect(contents.size).toBe(fixture.stored.size - 1); // one image is linked under two URLs
    expect(blobs(full).sort()).toEqual([...contents].map(attachmentPath).sort());
  });

  it("records a missing attachment and one over the cap, with why, and fails nothing", () => {
    const lines = index(full);
    for (const url of fixture.missing)
      expect(lines.find((l) => l.url === url)).toEqual({ url, state: "missing", status: 404 });
    const reason = "larger than the 0.5 MiB an attachment may have";
    expect(lines.find((l) => l.url === fixture.tooLarge[0])).toEqual({
      url: fixture.tooLarge[0],
      state: "too-large",
      size: CAP + 1,
      reason,
    });
    // Without a Content-Length, the cap stops the read part-way: no size to tell.
    expect(lines.find((l) => l.url === fixture.tooLarge[1])).toEqual({
      url: fixture.tooLarge[1],
      state: "too-large",
      reason,
    });
    expect(full.summary.kinds.issues).toMatchObject({ state: "full" });
  });

  it("sends the token to GitHub's web host only; a private image it refuses comes signed through the Markdown API", () => {
    const requests = github.userContent.requests;
    expect(requests.filter((r) => r.host !== "web").every((r) => r.auth === undefined)).toBe(true);
    expect(requests.filter((r) => r.host === "web").every((r) => r.auth === "token")).toBe(true);
    expect(
      github.requests.filter((r) => r.method === "POST" && r.url === "/markdown").length,
    ).toBeGreaterThan(0);
    expect(requests.some((r) => r.host === "private-images" && r.status === 200)).toBe(true);
    // Streamed: the large screenshot came in many chunks and was never asked for whole up front.
    expect(requests.filter((r) => r.host === "storage" && r.status === 200).length).toBeGreaterThanOrEqual(2);
  });

  it("leaves no token, signature or JWT in any file, index line or checkpoint", () => {
    expect(leftBehind(full)).not.toMatch(/ghs_|X-Amz-Signature/);
    // A JWT a user pasted stays in the body they wrote, and nowhere else.
    const attachments = full.files.get(kindPath("attachments"))!.toString("utf8");
    expect(attachments + JSON.stringify(full.summary)).not.toMatch(/jwt|eyJhbGci/);
    expect(leftBehind(full).match(/jwt=/g)).toHaveLength(1);
    expect(full.summary.checkpoint.attachments!.urls).toHaveLength(index(full).length);
    expect(full.summary.checkpoint.attachments!.blobs).toHaveLength(blobs(full).length);
  });
});

describe("attachments: in an archive", () => {
  it("writes each stored attachment as an archive entry whose SHA-256 is its name", async () => {
    const collection = source().collect(REPO);
    const createdAt = "2026-01-01T00:00:00.000Z";
    const written = writeArchive({
      header: {
        aead: "AES256_GCM_HKDF_1MB",
        keyRef: "local:0123456789abcdef",
        wrappedKey: Buffer.alloc(60).toString("base64"),
        snapshotId: "20260101T000000000Z-00000000",
        repo: REPO,
        createdAt,
      },
      dataKey: Buffer.alloc(32, 7),
      manifest: {
        format: 1,
        snapshotId: "20260101T000000000Z-00000000",
        repo: REPO,
        takenAt: createdAt,
        kind: "full",
        refs: {},
        prerequisites: [],
      },
      files: collection.files,
      completeManifest: async () => ({ metadata: { kinds: (await collection.summary).kinds } }),
    });
    await written.stream.toArray();
    const manifest = await written.manifest;
    const entries = manifest.entries.filter((e) => e.path.startsWith("meta/attachments/"));
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) expect(entry.path).toBe(attachmentPath(entry.sha256));
    expect(manifest.metadata?.kinds.attachments).toMatchObject({ state: "full" });
  });
});

describe("attachments: incremental collections", () => {
  it("reads no attachment again once the chain holds its URL", async () => {
    const before = github.userContent.requests.length;
    const quiet = await drain(source().collect(REPO, { checkpoint: full.summary.checkpoint }));
    expect(quiet.summary.kinds.attachments).toEqual({ state: "unchanged" });
    expect(quiet.files.size).toBe(0);
    expect(github.userContent.requests.length).toBe(before);
    expect(quiet.summary.checkpoint.attachments).toEqual(full.summary.checkpoint.attachments);
  });

  it("reads only new links, and stores no content the chain holds already", async () => {
    const meta = github.metadata(REPO);
    const { web } = github.userContent.origins;
    const known = [...fixture.stored.values()][0]!;
    const fresh = randomBytes(9000);
    meta.attachments.set("/user-attachments/files/300/copy.png", { host: "web", ...known });
    meta.attachments.set("/user-attachments/files/301/new.txt", {
      host: "web",
      bytes: fresh,
      contentType: "text/plain",
    });
    meta.comments.push({
      id: 799_000,
      issue_url: `https://api.github.com/repos/${REPO}/issues/3`,
      user: { login: "dave" },
      body:
        `Again: ${web}/user-attachments/files/300/copy.png and ${web}/user-attachments/files/301/new.txt, ` +
        `and an old one: ${[...fixture.stored.keys()][0]}`,
      created_at: at(900_000),
      updated_at: at(900_000),
    });
    const before = github.userContent.requests.length;
    const delta = await drain(source().collect(REPO, { checkpoint: full.summary.checkpoint }));
    expect(delta.summary.kinds.attachments).toEqual({ state: "delta", items: 2 });
    expect(index(delta).map((l) => [l.url, l.sha256])).toEqual([
      [`${web}/user-attachments/files/300/copy.png`, sha256(known.bytes)],
      [`${web}/user-attachments/files/301/new.txt`, sha256(fresh)],
    ]);
    expect(blobs(delta)).toEqual([attachmentPath(sha256(fresh))]);
    expect(delta.files.get(attachmentPath(sha256(fresh)))!.equals(fresh)).toBe(true);
    // The known content was read once (to learn its hash), the new one twice (hash, then store).
    const storage = github.userContent.requests
      .slice(before)
      .filter((r) => r.host === "storage" && r.status === 200);
    expect(storage).toHaveLength(3);
    const after = await drain(source().collect(REPO, { checkpoint: delta.summary.checkpoint }));
    expect(after.summary.kinds.attachments).toEqual({ state: "unchanged" });
  });
});

describe("attachments: failures", () => {
  it("retries a storage host's 503, and fails transiently when it persists, quoting no signed URL", async () => {
    github.userContent.faults.push({ host: "storage", status: 503, times: 2 });
    const retried = await drain(source().collect(REPO));
    expect(blobs(retried).length).toBe(blobs(full).length + 1); // and the new one from the test above

    github.userContent.faults.push({ host: "storage", status: 503, times: 100 });
    const collection = source().collect(REPO);
    const err = await drain(collection).then(
      () => expect.unreachable(),
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).permanent).toBe(false);
    expect(err.message).toMatch(
      /attachment http:\/\/127\.0\.0\.1:\d+\/.*: the attachment's host answered HTTP 503 3 times/,
    );
    expect(inspect(err, { depth: 10 })).not.toMatch(/ghs_|X-Amz-Signature|jwt=/);
    await expect(collection.summary).rejects.toBe(err);
  });
});
