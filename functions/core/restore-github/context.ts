// What each part of a restore to GitHub's items is handed.
import type { GitHubItemWriter } from "../ports.js";
import type { ContentPacer } from "./pacing.js";
import type { RestoreSteps } from "./steps.js";

export interface ItemContext {
  writer: GitHubItemWriter;
  /** The target, "owner/name". */
  target: string;
  /** The source repository, "owner/name" (the snapshot's). */
  source: string;
  /** The source's web root, for the provenance links: "https://github.com". */
  webUrl: string;
  steps: RestoreSteps;
  pacer: ContentPacer;
}
