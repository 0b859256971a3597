// The canonical projection of what GitHub holds, read the same way from an original and its
// restore (test/integration/restore-github*.test.ts, test/e2e/restore-org.test.ts): titles, bodies
// without the provenance header, states, labels, milestones, comment order with reviews and review
// comments, releases and their assets' SHA-256s.
import { createHash } from "node:crypto";
import { stripProvenance } from "../../functions/core/restore-github/provenance.js";
import type { RepoMetadata } from "./github-standin-metadata.js";

type O = Record<string, unknown>;

// The canonical projection of what GitHub holds, read the same way from the original and the restored.
const names = (xs: unknown) => ((xs as O[]) ?? []).map((x) => String(x.name)).sort();
export function projection(meta: RepoMetadata) {
  const thread = (n: number) => {
    const items = [
      ...meta.comments
        .filter((c) => String(c.issue_url).endsWith(`/issues/${n}`))
        .map((c) => ({ t: String(c.created_at), body: stripProvenance(c.body as string) })),
      ...(meta.reviews[n] ?? [])
        .filter((r) => r.body || r.state !== "COMMENTED")
        .map((r) => ({ t: String(r.submitted_at), body: stripProvenance(r.body as string) })),
      ...meta.reviewComments
        .filter((c) => String(c.pull_request_url).endsWith(`/pulls/${n}`))
        .map((c) => ({ t: String(c.created_at), body: stripProvenance(c.body as string) })),
    ];
    return items.sort((a, b) => a.t.localeCompare(b.t)).map((c) => c.body);
  };
  return {
    labels: meta.labels.map((l) => [l.name, l.color, l.description ?? null]).sort(),
    milestones: meta.milestones
      .filter((m) => !String(m.title).startsWith("Placeholder"))
      .map((m) => [m.number, m.title, m.description, m.state]),
    issues: [...meta.issues]
      .filter((i) => !String(i.title).startsWith("Placeholder"))
      .sort((a, b) => Number(a.number) - Number(b.number))
      .map((i) => ({
        number: i.number,
        title: i.title,
        body: stripProvenance(i.body as string | null),
        state: i.state,
        labels: names(i.labels),
        milestone: (i.milestone as O | null)?.number ?? null,
        locked: i.locked,
        comments: thread(Number(i.number)),
      })),
    releases: [...meta.releases]
      .sort((a, b) => String(a.tag_name).localeCompare(String(b.tag_name)))
      .map((r) => ({
        tag: r.tag_name,
        name: r.name,
        body: stripProvenance(r.body as string | null),
        draft: r.draft,
        prerelease: r.prerelease,
        assets: (r.assets as O[])
          .map((a) => [
            a.name,
            createHash("sha256")
              .update(meta.assetBytes.get(Number(a.id))!)
              .digest("hex"),
          ])
          .sort(),
      })),
  };
}
