// Attachment links put into a repository's bodies (issues, a comment, a pull request, a review, a
// review comment, a release), served by the stand-in's user-content hosts: every form GitHub uses,
// one content linked twice, a private image GitHub refuses the App's token for, a pasted private
// link whose JWT has expired, a link to nothing, one over the size cap, and links that are not
// attachments at all.
import { randomBytes, randomUUID } from "node:crypto";
import type { RepoMetadata } from "./github-standin-metadata.js";
import type { StandinAttachment, UserContentOrigins } from "./github-standin-usercontent.js";

type ApiObject = Record<string, unknown>;

export interface AttachmentFixture {
  /** Links (as the archive keeps them) that are stored, with the bytes served. */
  stored: Map<string, { bytes: Buffer; contentType: string }>;
  /** Links that answer 404. */
  missing: string[];
  /** Links over `bigBytes`: the first with a Content-Length, the second without. */
  tooLarge: string[];
  /** Links in the bodies that are not attachments. */
  ignored: string[];
}

export function fillAttachments(
  meta: RepoMetadata,
  repo: string,
  origins: UserContentOrigins,
  options: { bigBytes: number },
): AttachmentFixture {
  const fixture: AttachmentFixture = { stored: new Map(), missing: [], tooLarge: [], ignored: [] };
  const put = (
    host: StandinAttachment["host"],
    origin: string,
    path: string,
    a: Omit<StandinAttachment, "host">,
  ) => {
    meta.attachments.set(path, { host, ...a });
    const url = `${origin}${path}`;
    fixture.stored.set(url, { bytes: a.bytes, contentType: a.contentType });
    return url;
  };
  const screenshot = randomBytes(300 * 1024 + 5);
  const shot = put("web", origins.web, `/user-attachments/assets/${randomUUID()}`, {
    bytes: screenshot,
    contentType: "image/png",
  });
  const log = put("web", origins.web, "/user-attachments/files/101/build.log", {
    bytes: Buffer.from("line 1\nline 2\n"),
    contentType: "text/plain",
    chunked: true,
  });
  // The same image pasted again under the 2023 form: another URL, the same bytes.
  const again = put("web", origins.web, `/${repo}/assets/7/${randomUUID()}`, {
    bytes: screenshot,
    contentType: "image/png",
  });
  const old = put("images", origins.images, "/452325/121538101-09e2e500-c9f4-11eb-9560-a16da9728f47.gif", {
    bytes: randomBytes(5000),
    contentType: "image/gif",
  });
  const signedOnly = put("web", origins.web, `/user-attachments/assets/${randomUUID()}`, {
    bytes: randomBytes(70 * 1024),
    contentType: "image/jpeg",
    refusesToken: true,
  });
  const big = `${origins.web}/user-attachments/files/102/dump.bin`;
  meta.attachments.set("/user-attachments/files/102/dump.bin", {
    host: "web",
    bytes: randomBytes(options.bigBytes + 1),
    contentType: "application/octet-stream",
  });
  // Over the cap too, but with no Content-Length: found out while it streams.
  const bigStream = `${origins.web}/user-attachments/files/103/stream.bin`;
  meta.attachments.set("/user-attachments/files/103/stream.bin", {
    host: "web",
    bytes: randomBytes(options.bigBytes + 1),
    contentType: "application/octet-stream",
    chunked: true,
  });
  fixture.tooLarge.push(big, bigStream);
  const gone = `${origins.web}/user-attachments/assets/${randomUUID()}`;
  const expired = `${origins.privateImages}/1/265130289-56ac7a5a.png`;
  fixture.missing.push(gone, expired);
  fixture.ignored.push(
    `${origins.web}/${repo}/blob/main/docs/shot.png`,
    `${origins.web}/other/repo/files/9/x.zip`,
    "https://example.com/pic.png",
  );

  const issue = (n: number) => meta.issues.find((i) => i.number === n)!;
  const append = (item: ApiObject, text: string) => (item.body = `${String(item.body ?? "")}\n\n${text}`);
  append(issue(6), `![screenshot](${shot})\nSee also ${fixture.ignored.join(" and ")}.`);
  append(meta.comments[0]!, `[build.log](${log})`);
  append(issue(2), `Before: <img width="400" src="${again}">`);
  append(
    meta.pulls.find((p) => p.number === 2)!,
    `Before: <img width="400" src="${again}">`,
  );
  append(meta.reviews[2]![0]!, `Old style: ![x](${old})`);
  append(meta.reviewComments[0]!, `Pasted: ${expired}?jwt=eyJhbGciOiJIUzI1NiJ9.stale.sig`);
  append(meta.releases[0]!, `![diagram](${signedOnly})`);
  append(issue(8), `[dump](${big}) and ![gone](${gone})`);
  append(issue(9), `[stream](${bigStream})`);
  return fixture;
}
