// The `infinity-backup` command line: parses arguments, opens the app, runs one command, and
// turns every error into a message and an exit code (never a stack trace for a user's mistake).
import { orgRepoName } from "../core/ids.js";
import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import { BackupError, describeError, UserInputError } from "../core/errors.js";
import { scrub } from "../core/redact.js";
import { sweepScratch } from "../core/scratch.js";
import { DEFAULT_CONFIG } from "../config/default-config.js";
import { EXIT, type CommandOptions, type Context } from "./context.js";
import { ProgressLine } from "./progress.js";

type Command = (ctx: Context) => Promise<number>;

// Loaded on use: `--help`, a usage error or one command never pay for the others' imports
// (the app's wiring, SQLite, the cloud SDKs), which cost most of a start-up.
const COMMANDS: Record<string, () => Promise<Command>> = {
  backup: async () => (await import("./commands/backup.js")).backupCommand,
  list: async () => (await import("./commands/list.js")).listCommand,
  verify: async () => (await import("./commands/verify.js")).verifyCommand,
  restore: async () => (await import("./commands/restore.js")).restoreCommand,
  status: async () => (await import("./commands/status.js")).statusCommand,
  prune: async () => (await import("./commands/prune.js")).pruneCommand,
  cost: async () => (await import("./commands/cost.js")).costCommand,
  hold: async () => (await import("./commands/hold.js")).holdCommand,
  config: async () => (await import("./commands/config.js")).configCommand,
  show: async () => (await import("./commands/show.js")).showCommand,
  audit: async () => (await import("./commands/audit.js")).auditCommand,
  serve: async () => (await import("./commands/serve.js")).serveCommand,
  drill: async () => (await import("./commands/drill.js")).drillCommand,
  demo: async () => (await import("./commands/demo.js")).demoCommand,
  forget: async () => (await import("./commands/forget.js")).forgetCommand,
  keys: async () => (await import("./commands/keys.js")).keysCommand,
  redact: async () => (await import("./commands/redact.js")).redactCommand,
};

export const USAGE = `Usage: infinity-backup <command> [options]

Commands:
  backup    Snapshot the configured repositories (all, or --repo NAME ...), then verify them; with a
            github section also each organization's own snapshot when orgSnapshot is due (--org O: now)
  list      List snapshots (of --repo NAME, or of every repository)
  verify    Verify snapshots: the latest of each repo, or --repo NAME [--snapshot ID | --all]
  restore   Restore --repo NAME [--snapshot ID | --at TIME] to --to PATH, --push URL or --bundle FILE
  status    Freshness, verification and storage of every repository
  prune     Apply the retention policy: expire, re-tier, delete, collect orphans (--dry-run: plan only)
  cost      Stored bytes per storage class, estimated monthly cost, and the year ahead
  hold      Legal hold on --repo NAME's snapshots (or one --snapshot ID); --release lifts it
  config    The effective configuration, and where each value came from (file, environment, default)
  show      What --repo NAME's snapshot [--snapshot ID | --at TIME] holds of its GitHub metadata:
            issues | pulls | releases | labels | milestones | settings | kinds | issue N | pull N;
            with --org O, the organization's own snapshot: teams | members | rulesets | projects |
            items | settings | kinds
  audit     The audit trail (--repo, --since TIME, --action A; --csv or --json); \`audit verify\`
            proves its hash chain unbroken or names the first bad entry
  drill     Restore a sample (--sample N, default drill.sample, 3; or --repo NAME) into scratch space, check it
            against the index, time it against the 1-hour RTO
  serve     The status page (charts, search, filters) at http://127.0.0.1:8787/ (--port, --host)
  job snapshot   (Cloud Run) drain the large-repository snapshot queue; configured by environment
  demo      Back up a demo repository, verify, restore and compare (what \`npm start\` runs)
  forget    Erase --repo NAME for good (crypto-shredding): destroys its keys, so every archive of it
            is unreadable at once; --reason TEXT is required, the name typed back (or --confirm NAME)
  keys      The repository keys; \`keys rotate\` rewraps them under a new key file key (the current
            KMS version), \`keys rotate --repo NAME\` gives NAME a new key and rewraps its data keys;
            \`keys export --repo NAME --snapshot ID\` prints a snapshot's key record for tools/decrypt.py
  redact    \`redact add --login L --reason TEXT\`: hide a person's data in every read of metadata
            (show, restore); \`redact list\`, \`redact remove --login L\`

Options:
  --config FILE     Config file (default ${DEFAULT_CONFIG})
  --repo NAME       A repository, "owner/name"; repeatable
  --snapshot ID     A snapshot id (see \`list\`)
  --at TIME         Point in time, ISO-8601 (e.g. 2026-11-27T10:00:00Z): newest snapshot at or before it
  --level LEVEL     Verification: quick (archive + pack checksum) or deep (also unbundle + git fsck);
                    layer: a layered snapshot's new layers and their links
  --no-verify       backup: skip verification after the snapshot
  --all             verify: every snapshot, not only the latest
  --dry-run         prune: print the plan with its reasons; change nothing
  --compact         prune: also merge full levels of shared pack layers (layered snapshots)
  --full            prune --compact: rewrite every live layer into one holding only objects kept
                    snapshots reach (frees all unneeded space; costs a rewrite of the repository)
  --release         hold: lift the hold instead of setting it
  --since TIME      audit: entries at or after TIME (ISO-8601)
  --action ACTION   audit: one action (restore.completed) or family (restore)
  --csv             audit: CSV on stdout
  --sample N        drill: how many repositories (the largest and the longest undrilled among them)
  --port N          serve: the port (default 8787; 0 picks a free one)
  --host ADDRESS    serve: the address to listen on (default 127.0.0.1, this machine only)
  --reason TEXT     forget, redact add: why (kept in the audit trail)
  --confirm NAME    forget: the repository name, typed back without a prompt
  --login LOGIN     redact: the GitHub login
  --to PATH         restore: a new bare repository at PATH (must not exist)
  --push URL        restore: push the snapshot's refs to this git URL (an empty repository)
  --bundle FILE     restore: write a plain git bundle to FILE
  --to-github OWNER/NAME   restore: a new GitHub repository with code, settings, issues, pull
                    requests, comments and releases (run again to continue an interrupted one)
  --into-existing-empty    restore --to-github: into that repository, which must exist and be empty
  --all --at TIME   restore: every repository as it was at TIME (each one's newest snapshot at or
                    before it) to GitHub, into --to-org ORG and/or under --prefix P; with --dry-run
                    only the list, flagging repositories with no snapshot at or before TIME
  --json            Machine-readable output on stdout
  --quiet           No progress output
  -h, --help        This text

Exit status: 0 success, 1 a repository failed or a check failed, 2 bad arguments or config.`;

function parseOptions(argv: string[]): { command?: string; options: CommandOptions; help: boolean } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: "string", default: process.env.INFINITY_BACKUP_CONFIG ?? DEFAULT_CONFIG },
      json: { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
      repo: { type: "string", multiple: true, default: [] },
      org: { type: "string" },
      snapshot: { type: "string" },
      at: { type: "string" },
      level: { type: "string" },
      "no-verify": { type: "boolean", default: false },
      all: { type: "boolean", default: false },
      "dry-run": { type: "boolean", default: false },
      compact: { type: "boolean", default: false },
      full: { type: "boolean", default: false },
      release: { type: "boolean", default: false },
      to: { type: "string" },
      push: { type: "string" },
      bundle: { type: "string" },
      "to-github": { type: "string" },
      "into-existing-empty": { type: "boolean", default: false },
      "to-org": { type: "string" },
      prefix: { type: "string" },
      since: { type: "string" },
      action: { type: "string" },
      csv: { type: "boolean", default: false },
      sample: { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      reason: { type: "string" },
      confirm: { type: "string" },
      login: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  // Only `show` (what to show), `audit` (verify), `keys` and `redact` (a subcommand) take arguments after the command; they check them.
  if (positionals.length > 1 && !["show", "audit", "keys", "redact"].includes(positionals[0]!))
    throw new UserInputError(`unexpected argument "${positionals[1]}"`);
  if (values.level !== undefined && !["quick", "deep", "layer"].includes(values.level)) {
    throw new UserInputError(`--level must be quick, deep or layer, not "${values.level}"`);
  }
  checkTime("--at", values.at);
  checkTime("--since", values.since);
  return {
    command: positionals[0],
    help: values.help,
    options: {
      args: positionals.slice(1),
      config: values.config,
      json: values.json,
      quiet: values.quiet,
      // --org O names the organization's own snapshots, filed as the repository "<O>/@org".
      repo: values.org === undefined ? values.repo : [...values.repo, orgRepoName(values.org)],
      snapshot: values.snapshot,
      at: values.at === undefined ? undefined : new Date(values.at).toISOString(),
      since: values.since === undefined ? undefined : new Date(values.since).toISOString(),
      action: values.action,
      csv: values.csv,
      sample: values.sample,
      port: values.port,
      host: values.host,
      reason: values.reason,
      confirm: values.confirm,
      login: values.login,
      level: values.level as CommandOptions["level"],
      verify: !values["no-verify"],
      to: values.to,
      push: values.push,
      bundle: values.bundle,
      toGithub: values["to-github"],
      intoExistingEmpty: values["into-existing-empty"],
      toOrg: values["to-org"],
      prefix: values.prefix,
      all: values.all,
      dryRun: values["dry-run"],
      compact: values.compact,
      fullCompaction: values.full,
      release: values.release,
    },
  };
}

/** A date, optionally a time: "0" or "2026" parse as dates in JavaScript but mean nothing here. */
function checkTime(option: string, value: string | undefined): void {
  if (value !== undefined && (!/^\d{4}-\d{2}-\d{2}([T ]|$)/.test(value) || Number.isNaN(Date.parse(value)))) {
    throw new UserInputError(`${option} "${value}" is not a time; use ISO-8601 such as 2026-11-27T10:00:00Z`);
  }
}

export interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

export async function main(
  argv: string[],
  io: Io = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  // `job <kind>` takes its settings from the environment, not from these options.
  if (argv[0] === "job") return runJob(argv, io);
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
  } catch (err) {
    io.stderr.write(
      `infinity-backup: ${describeError(err).replace(/^Unknown option/, "unknown option")}\n\n${USAGE}\n`,
    );
    return EXIT.usage;
  }
  const { command, options, help } = parsed;
  if (help || !command) {
    (help ? io.stdout : io.stderr).write(USAGE + "\n");
    return help ? EXIT.ok : EXIT.usage;
  }
  const load = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!load) {
    io.stderr.write(`infinity-backup: unknown command "${command}"\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  const progress = new ProgressLine(io.stderr, !options.quiet && (!options.json || Boolean(io.stderr.isTTY)));
  let app;
  let run: Command;
  // What a killed run left in the temp folder (its pid is gone) goes before this one starts.
  await sweepScratch();
  try {
    run = await load();
    const { openApp } = await import("../wiring.js");
    app = await openApp(options.config);
  } catch (err) {
    io.stderr.write(`infinity-backup: ${describeError(err)}\n`);
    return err instanceof UserInputError ? EXIT.usage : EXIT.failed;
  }
  try {
    return await run({
      app,
      options,
      progress,
      actor: `cli:${safeUser()}`,
      print: (text) => io.stdout.write(text + "\n"),
    });
  } catch (err) {
    progress.clear();
    io.stderr.write(`infinity-backup ${command}: ${describeError(err)}\n`);
    if (!(err instanceof BackupError) && process.env.INFINITY_BACKUP_DEBUG)
      io.stderr.write(`${scrub(String((err as Error).stack))}\n`);
    return err instanceof UserInputError ? EXIT.usage : EXIT.failed;
  } finally {
    // A close that fails (the same full disk) is said after the error that came first.
    await app
      .close()
      .catch((err: unknown) => io.stderr.write(`infinity-backup: closing: ${describeError(err)}\n`));
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}

/** `infinity-backup job snapshot`: the Cloud Run job's entry; configured by its environment. */
async function runJob(argv: string[], io: Io): Promise<number> {
  const kind = argv.filter((a) => !a.startsWith("-"))[1];
  if (kind !== "snapshot") {
    io.stderr.write(`infinity-backup job: unknown job "${kind ?? ""}" (known: snapshot)\n`);
    return EXIT.usage;
  }
  try {
    const [{ runSnapshotJob }, { cloudApp }] = await Promise.all([
      import("../jobs/snapshot-job.js"),
      import("../wiring.js"),
    ]);
    return await runSnapshotJob(await cloudApp("snapshotJob", process.env));
  } catch (err) {
    io.stderr.write(`infinity-backup job snapshot: ${describeError(err)}\n`);
    return err instanceof UserInputError ? EXIT.usage : EXIT.failed;
  }
}
