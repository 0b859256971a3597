// `infinity-backup audit`: the audit trail, filtered (--repo, --since, --action), as a table,
// JSON or CSV; `audit verify` proves its hash chain unbroken or names the first bad entry.
import { selectAudit, verifyChain, type AuditEntry, type AuditFilter } from "../../core/audit-chain.js";
import { UserInputError } from "../../core/errors.js";
import { table } from "../format.js";
import { EXIT, type Context } from "../context.js";

export async function auditCommand(ctx: Context): Promise<number> {
  const [sub, ...rest] = ctx.options.args ?? [];
  if (rest.length) throw new UserInputError(`unexpected argument "${rest[0]}"`);
  if (sub === "verify") return verifyAudit(ctx);
  if (sub !== undefined) throw new UserInputError(`unknown audit command "${sub}" (known: verify)`);
  return listAudit(ctx);
}

async function verifyAudit(ctx: Context): Promise<number> {
  const report = await verifyChain(ctx.app.auditTrail.stored());
  if (ctx.options.json) {
    ctx.print(JSON.stringify(report, null, 2));
    return report.ok ? EXIT.ok : EXIT.failed;
  }
  const older = report.unchained
    ? ` (and ${report.unchained} older unchained entries, covered by the chain)`
    : "";
  if (report.ok) {
    ctx.print(
      `Audit trail intact: ${report.entries} chained entries${older}; last #${report.head.seq} ${report.head.hash}.`,
    );
    return EXIT.ok;
  }
  const bad = report.firstBad!;
  ctx.print(
    `Audit trail BROKEN at ${bad.position}${bad.seq === undefined ? "" : ` (#${bad.seq})`}: ${bad.reason}.\n` +
      `The ${report.entries} entries before it are intact; last good #${report.head.seq}.`,
  );
  return EXIT.failed;
}

async function listAudit(ctx: Context): Promise<number> {
  const { options } = ctx;
  if (options.repo.length > 1) throw new UserInputError("audit takes at most one --repo NAME");
  const filter: AuditFilter = {
    ...(options.repo[0] ? { repo: options.repo[0] } : {}),
    ...(options.since ? { since: options.since } : {}),
    ...(options.action ? { action: options.action } : {}),
  };
  const { entries, damaged } = await selectAudit(ctx.app.auditTrail.stored(), filter);
  if (damaged.length) {
    process.stderr.write(
      `infinity-backup audit: ${damaged.length} damaged entr${damaged.length === 1 ? "y" : "ies"} skipped (${damaged.slice(0, 5).join(", ")}); run \`infinity-backup audit verify\`\n`,
    );
  }
  if (options.json) ctx.print(JSON.stringify(entries, null, 2));
  else if (options.csv) ctx.print(toCsv(entries));
  else if (!entries.length) ctx.print("No audit entries match.");
  else
    ctx.print(
      table(
        ["#", "at", "action", "outcome", "repository", "snapshot", "actor"],
        entries.map((e) => [
          String(e.seq ?? "-"),
          e.at,
          e.action,
          e.outcome,
          e.repo ?? "-",
          e.snapshotId ?? "-",
          e.actor,
        ]),
      ),
    );
  return EXIT.ok;
}

const CSV_COLUMNS = [
  "seq",
  "at",
  "action",
  "outcome",
  "repo",
  "snapshotId",
  "actor",
  "details",
  "hash",
] as const;

function toCsv(entries: AuditEntry[]): string {
  const cell = (value: unknown): string => {
    const text = value === undefined ? "" : typeof value === "string" ? value : JSON.stringify(value);
    return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return [CSV_COLUMNS.join(","), ...entries.map((e) => CSV_COLUMNS.map((c) => cell(e[c])).join(","))].join(
    "\n",
  );
}
