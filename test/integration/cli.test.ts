// The `infinity-backup` command line, in-process: every command, its output, and its exit code,
// including the failures a user will meet (bad arguments, bad config, a damaged archive).
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../helpers/cli-run.js";
import { refsOf, richRepo } from "../helpers/git-repos.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";

let ws: TestWorkspace;
let scratch: string;
let source: string;
let config: string[];

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-cli-"));
  source = await richRepo(scratch);
  ws = await workspace({ "acme/app": source, "acme/missing": join(scratch, "nowhere.git") });
  config = ["--config", ws.configFile];
});

afterAll(async () => {
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

describe("infinity-backup CLI", () => {
  it("config: every effective setting and its origin; the environment wins and is named", async () => {
    const previous = process.env.RETENTION_DAYS;
    process.env.RETENTION_DAYS = "12";
    try {
      const { code, stdout } = await cli("config", ...config);
      expect(code).toBe(0);
      expect(stdout).toMatch(/retention\.daily\s+12d\s+environment RETENTION_DAYS/);
      expect(stdout).toMatch(/snapshots\.maxChain\s+48\s+/);
      expect(stdout).toMatch(/schedule\.daily\s+0 0 \* \* \*\s+default/);
      const json = JSON.parse((await cli("config", ...config, "--json")).stdout);
      const daily = json.settings.find((s: { setting: string }) => s.setting === "retention.daily");
      expect(daily.from).toEqual({ from: "env", name: "RETENTION_DAYS" });
    } finally {
      if (previous === undefined) delete process.env.RETENTION_DAYS;
      else process.env.RETENTION_DAYS = previous;
    }
  });

  it("backup: backs up what it can, names the failure, exits 1", async () => {
    const { code, stdout, stderr } = await cli("backup", ...config);
    expect(code).toBe(1);
    expect(stdout).toMatch(/acme\/app\s+created/);
    expect(stdout).toMatch(/acme\/missing\s+FAILED/);
    expect(stdout).toMatch(/1 of 2 repositories backed up; 1 FAILED/);
    expect(stderr).toMatch(/\[1\/2\] acme\/app: created/);
  });

  it("backup --repo: only that one; a second run is unchanged; --json parses", async () => {
    const { code, stdout } = await cli("backup", ...config, "--repo", "acme/app", "--json");
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.ok).toBe(true);
    expect(report.results).toHaveLength(1);
    expect(report.results[0].snapshot.outcome).toBe("unchanged");
  });

  it("backup --repo with an unknown name is a usage error", async () => {
    const { code, stderr } = await cli("backup", ...config, "--repo", "acme/nope");
    expect(code).toBe(2);
    expect(stderr).toMatch(/not a configured source: acme\/nope/);
  });

  it("list and status show the snapshot and its verification", async () => {
    const list = await cli("list", ...config);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/acme\/app\s+\d{8}T\d{9}Z-[0-9a-f]{8}.*ok deep/);
    const status = await cli("status", ...config, "--json");
    const report = JSON.parse(status.stdout);
    const app = report.repos.find((r: { repo: string }) => r.repo === "acme/app");
    expect(app.verified).toBe(true);
    expect(report.repos.find((r: { repo: string }) => r.repo === "acme/missing").problems).toContain(
      "no snapshot",
    );
    expect(status.code).toBe(1);
  });

  it("verify and restore --to: restored refs equal the source", async () => {
    expect((await cli("verify", ...config, "--level", "quick")).code).toBe(0);
    const target = join(scratch, "restored.git");
    const { code, stdout } = await cli("restore", ...config, "--repo", "acme/app", "--to", target);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Restored acme\/app snapshot/);
    expect(await refsOf(target)).toBe(await refsOf(source));
  });

  it("restore without a target, or to an existing path, says so", async () => {
    const none = await cli("restore", ...config, "--repo", "acme/app");
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/exactly one of --to PATH, --push URL, --bundle FILE/);
    const existing = await cli("restore", ...config, "--repo", "acme/app", "--to", source);
    expect(existing.code).toBe(1);
    expect(existing.stderr).toMatch(/already exists; choose a new path/);
    const early = await cli(
      "restore",
      ...config,
      "--repo",
      "acme/app",
      "--at",
      "2001-01-01T00:00:00Z",
      "--to",
      join(scratch, "x.git"),
    );
    expect(early.stderr).toMatch(/no snapshot of acme\/app at or before 2001-01-01/);
  });

  it("hold puts a repository's snapshots on legal hold, --release lifts it; both audited", async () => {
    const held = await cli("hold", ...config, "--repo", "acme/app", "--json");
    expect(held.code).toBe(0);
    const ids: string[] = JSON.parse(held.stdout).snapshots;
    expect(ids.length).toBeGreaterThan(0);
    const list = JSON.parse((await cli("list", ...config, "--repo", "acme/app", "--json")).stdout);
    expect(list.every((s: { hold?: boolean }) => s.hold === true)).toBe(true);
    expect((await cli("hold", ...config, "--repo", "acme/app", "--release")).stdout).toMatch(
      /Released \d+ snapshot/,
    );
    const after = JSON.parse((await cli("list", ...config, "--repo", "acme/app", "--json")).stdout);
    expect(after.every((s: { hold?: boolean }) => !s.hold)).toBe(true);
    const audit = await readFile(join(ws.dir, "data", "audit.jsonl"), "utf8");
    expect(audit).toMatch(/"action":"hold.set"/);
    expect(audit).toMatch(/"action":"hold.released"/);
    expect((await cli("hold", ...config, "--repo", "acme/app", "--snapshot", "nope")).stderr).toMatch(
      /no snapshot nope/,
    );
  });

  it("audit: every operation so far, filtered, as JSON and CSV; audit verify proves the chain and names a forged entry", async () => {
    const all = JSON.parse((await cli("audit", ...config, "--json")).stdout) as Array<
      Record<string, unknown>
    >;
    const actions = all.map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(["snapshot.created", "verify.passed", "hold.set", "hold.released"]),
    );
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
    const holds = JSON.parse(
      (await cli("audit", ...config, "--action", "hold", "--repo", "acme/app", "--json")).stdout,
    );
    expect(holds.length).toBeGreaterThan(0);
    expect(holds.every((e: { action: string }) => e.action.startsWith("hold."))).toBe(true);
    const future = await cli("audit", ...config, "--since", "2999-01-01T00:00:00Z");
    expect(future.stdout).toMatch(/No audit entries match/);
    const csv = (await cli("audit", ...config, "--csv", "--action", "hold.set")).stdout.trim().split("\n");
    expect(csv[0]).toBe("seq,at,action,outcome,repo,snapshotId,actor,details,hash");
    expect(csv.slice(1).every((line) => line.split(",")[2] === "hold.set")).toBe(true);
    expect((await cli("audit", ...config, "--since", "last week")).code).toBe(2);

    const ok = await cli("audit", "verify", ...config);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`Audit trail intact: ${all.length} chained entries`));
    const file = join(ws.dir, "data", "audit.jsonl");
    const original = await readFile(file, "utf8");
    try {
      // Someone hides a restore: the entry's outcome is changed in place.
      const lines = original.split("\n");
      lines[1] = lines[1]!.replace(
        /"outcome":"(success|failure)"/,
        (_m, o) => `"outcome":"${o === "success" ? "failure" : "success"}"`,
      );
      await writeFile(file, lines.join("\n"));
      const broken = await cli("audit", "verify", ...config, "--json");
      expect(broken.code).toBe(1);
      expect(JSON.parse(broken.stdout)).toMatchObject({
        ok: false,
        entries: 1,
        firstBad: { position: "line 2", seq: 2 },
      });
    } finally {
      await writeFile(file, original);
    }
    expect((await cli("audit", "frobnicate", ...config)).stderr).toMatch(
      /unknown audit command "frobnicate"/,
    );
  });

  it("rejects bad arguments with exit 2", async () => {
    expect((await cli("bogus", ...config)).stderr).toMatch(/unknown command "bogus"/);
    expect((await cli("verify", ...config, "--level", "medium")).stderr).toMatch(
      /--level must be quick, deep or layer/,
    );
    expect((await cli("restore", ...config, "--repo", "acme/app", "--at", "yesterday")).stderr).toMatch(
      /--at "yesterday" is not a time/,
    );
    for (const at of ["0", "2026", "11/27/2026"]) {
      const refused = await cli("restore", ...config, "--repo", "acme/app", "--at", at);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(`--at "${at}" is not a time`);
    }
    expect((await cli("backup", ...config, "--frobnicate")).code).toBe(2);
    expect((await cli()).code).toBe(2);
    expect((await cli("--help")).code).toBe(0);
  });

  it("a data folder that is a file is named, not a raw EEXIST", async () => {
    const file = join(scratch, "not-a-folder");
    await writeFile(file, "x");
    const bad = join(scratch, "file-data.yaml");
    await writeFile(bad, `version: 1\nlocal:\n  dataDir: ${file}\n`);
    const { code, stderr } = await cli("status", "--config", bad);
    expect(code).toBe(2);
    expect(stderr).toContain(
      `data folder ${file} (local.dataDir or BACKUP_LOCATION): it is a file, not a folder`,
    );
  });

  it("a config with a mistyped key names the file and the key", async () => {
    const bad = join(scratch, "bad.yaml");
    await writeFile(bad, "version: 1\nsources:\n  - name: acme/app\n    urll: /tmp/x\n");
    const { code, stderr } = await cli("status", "--config", bad);
    expect(code).toBe(2);
    expect(stderr).toContain(`${bad}: sources[0]: unknown key "urll"`);
    await writeFile(
      bad,
      "version: 1\nsources:\n  - name: acme/app\n    url: https://user:secret@example.com/x.git\n",
    );
    const creds = await cli("status", "--config", bad);
    expect(creds.stderr).toMatch(
      /sources\[0\]\.url: remote URLs must not hold credentials \(found user:password@ in the URL\)/,
    );
    expect(creds.stderr).not.toContain("secret@");
  });

  it("verify of a damaged archive exits 1 and names the damage", async () => {
    const list = JSON.parse((await cli("list", ...config, "--repo", "acme/app", "--json")).stdout);
    const file = join(ws.dir, "data", "archives", list[0].objectKey);
    const bytes = await readFile(file);
    bytes[bytes.length - 5]! ^= 0xff;
    await writeFile(file, bytes);
    const { code, stdout } = await cli("verify", ...config, "--repo", "acme/app");
    expect(code).toBe(1);
    expect(stdout).toMatch(/FAILED: segment 0 failed authentication/);
  });

  it("refuses to start with a missing key file when snapshots exist", async () => {
    await rm(join(ws.dir, "data", "keys.json"));
    const { code, stderr } = await cli("list", ...config);
    expect(code).toBe(1);
    expect(stderr).toMatch(/keys\.json/);
  });
});
