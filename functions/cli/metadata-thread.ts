// One issue or pull request as text: its header and body, then its conversation in time order
// (comments, timeline events, reviews and review comments with their file and line).
import type { KindLines, MetadataLine, ShowResult } from "../core/metadata/show.js";
import { absent, who } from "./metadata-text.js";

type ThreadResult = Extract<ShowResult, { what: "issue" | "pull" }>;

interface Entry {
  at: string;
  text: string;
}

export function renderThread(result: ThreadResult): string {
  const item = result.what === "pull" ? result.pull : result.issue;
  const out = [`#${String(item.number)} ${String(item.title)}  [${status(result)}]`];
  const times = [
    `opened by ${who(item.user)} at ${String(item.created_at)}`,
    `updated ${String(item.updated_at)}`,
  ];
  if (typeof item.closed_at === "string") times.push(`closed ${item.closed_at}`);
  out.push(times.join(", "));
  if (result.what === "pull") {
    const head = item.head as MetadataLine;
    const base = item.base as MetadataLine;
    out.push(
      `${String(base.ref)} <- ${String(head.label ?? head.ref)} (head ${String(head.sha).slice(0, 12)})`,
    );
    if (typeof item.merged_at === "string")
      out.push(`merged at ${item.merged_at} as ${String(item.merge_commit_sha).slice(0, 12)}`);
    const reviewers = [...list(item.requested_reviewers), ...list(item.requested_teams)];
    if (reviewers.length) out.push(`review requested from ${reviewers.join(", ")}`);
  }
  const facts = [
    ["labels", list(item.labels).join(", ")],
    ["assignees", list(item.assignees).join(", ")],
    ["milestone", item.milestone == null ? "" : String(item.milestone)],
  ].filter(([, v]) => v);
  if (facts.length) out.push(facts.map(([k, v]) => `${k}: ${v}`).join(" · "));
  if (result.what === "issue" && result.issue.is_pull_request === true)
    out.push(`(a pull request: \`show pull ${String(item.number)}\` adds its reviews and review comments)`);
  out.push("", indent(typeof item.body === "string" && item.body ? item.body : "(no description)"));

  const entries: Entry[] = [];
  const notes: string[] = [];
  const take = (lines: KindLines, noun: string, toEntry: (line: MetadataLine) => Entry) => {
    const missing = absent(lines.state, noun);
    if (missing) notes.push(missing);
    else entries.push(...lines.items.map(toEntry));
  };
  take(result.comments, "comments", (c) => ({
    at: String(c.created_at),
    text: `${who(c.user)} commented${edited(c)}:\n${indent(String(c.body ?? ""))}`,
  }));
  take(result.events, "timeline events", (e) => ({ at: String(e.created_at ?? ""), text: describeEvent(e) }));
  if (result.what === "pull") {
    take(result.reviews, "reviews", (r) => ({
      at: String(r.submitted_at ?? ""),
      text: `${who(r.user)} reviewed: ${String(r.state)}${r.body ? `\n${indent(String(r.body))}` : ""}`,
    }));
    take(result.reviewComments, "review comments", (c) => ({
      at: String(c.created_at),
      text:
        `${who(c.user)} commented on ${String(c.path)}${c.line == null ? "" : `:${String(c.line)}`}` +
        `${c.in_reply_to_id ? ` (reply to ${String(c.in_reply_to_id)})` : ""}${edited(c)}:\n` +
        `${indent(
          String(c.diff_hunk ?? "")
            .split("\n")
            .slice(-4)
            .join("\n"),
          "    │ ",
        )}\n${indent(String(c.body ?? ""))}`,
    }));
  }
  // Stable sort: lines of one kind are in key order already, which is time order within a kind.
  entries.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  if (entries.length) out.push("", ...entries.map((e) => `── ${e.at}  ${e.text}`));
  else out.push("", "No comments or events.");
  if (notes.length) out.push("", ...notes);
  return out.join("\n");
}

function status(result: ThreadResult): string {
  const item = result.what === "pull" ? result.pull : result.issue;
  const parts = [String(item.state)];
  if (result.what === "pull" && typeof item.merged_at === "string") parts[0] = "merged";
  else if (item.draft === true && item.state === "open") parts[0] = "draft";
  if (typeof item.state_reason === "string") parts[0] += `: ${item.state_reason.replace(/_/g, " ")}`;
  if (item.locked === true)
    parts.push(`locked${typeof item.active_lock_reason === "string" ? `: ${item.active_lock_reason}` : ""}`);
  return parts.join(", ");
}

/** One timeline event as a sentence. */
export function describeEvent(e: MetadataLine): string {
  const actor = who(e.actor);
  const commit = typeof e.commit_id === "string" ? e.commit_id.slice(0, 12) : undefined;
  const source = e.source as MetadataLine | undefined;
  switch (e.event) {
    case "labeled":
    case "unlabeled":
      return `${actor} ${e.event} ${String(e.label)}`;
    case "assigned":
    case "unassigned":
      return `${actor} ${e.event} ${who(e.assignee)}`;
    case "renamed": {
      const rename = e.rename as { from: string; to: string };
      return `${actor} renamed it from "${rename.from}" to "${rename.to}"`;
    }
    case "milestoned":
    case "demilestoned":
      return `${actor} ${e.event} it ${String(e.milestone)}`;
    case "locked":
      return `${actor} locked it${typeof e.lock_reason === "string" ? ` (${e.lock_reason})` : ""}`;
    case "review_requested":
    case "review_request_removed":
      return `${actor} ${e.event === "review_requested" ? "requested a review from" : "removed the review request for"} ${String(e.requested_reviewer ?? e.requested_team)}`;
    case "cross-referenced":
      return `${actor} mentioned it in ${source ? `${String(source.repository)}#${String(source.number)} "${String(source.title)}"` : "another issue"}`;
    case "merged":
    case "referenced":
      return `${actor} ${e.event} it${commit ? ` in ${commit}` : ""}`;
  }
  const extra = [
    commit && `in ${commit}`,
    typeof e.state_reason === "string" && `(${e.state_reason.replace(/_/g, " ")})`,
  ].filter(Boolean);
  return `${actor} ${String(e.event).replace(/_/g, " ")}${extra.length ? ` ${extra.join(" ")}` : ""}`;
}

function edited(line: MetadataLine): string {
  return line.updated_at && line.updated_at !== line.created_at ? ` (edited ${String(line.updated_at)})` : "";
}

function list(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

function indent(text: string, prefix = "    "): string {
  return text
    .split("\n")
    .map((line) => (line ? prefix + line : prefix.trimEnd()))
    .join("\n");
}
