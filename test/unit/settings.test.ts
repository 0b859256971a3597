// The one settings model: three YAML files, the product brief's environment on top, and where
// each value came from; the shipped files restate the built-in defaults (one default, one home).
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { backupConfigSchema } from "../../functions/config/backup-config.js";
import { readYaml } from "../../functions/config/load.js";
import { scheduleSchema } from "../../functions/config/schedule.js";
import { loadSettings, retentionSource } from "../../functions/config/settings.js";
import { DEFAULT_RETENTION_POLICY } from "../../functions/core/retention-policy.js";
import { readFileSync } from "node:fs";

const SHIPPED = fileURLToPath(new URL("../../config/backup-config.yaml", import.meta.url));
const HOUR = 3_600_000;
const dirs: string[] = [];

afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A project folder with config/backup-config.yaml and, optionally, the other two files. */
async function project(files: { backup?: string; retention?: string; schedule?: string } = {}) {
  const dir = await mkdtemp(join(tmpdir(), "infinity-settings-"));
  dirs.push(dir);
  await mkdir(join(dir, "config"));
  const configFile = join(dir, "config", "backup-config.yaml");
  await writeFile(configFile, files.backup ?? "version: 1\n");
  if (files.retention) await writeFile(join(dir, "config", "retention-policy.yaml"), files.retention);
  if (files.schedule) await writeFile(join(dir, "config", "schedule.yaml"), files.schedule);
  return { dir, configFile };
}

describe("the shipped config files", () => {
  it("restate the built-in defaults: the code's defaults are the files' values", () => {
    const text = (name: string) => readFileSync(join(SHIPPED, "..", name), "utf8");
    const shipped = backupConfigSchema.parse(readYaml(text("backup-config.yaml"), "backup-config.yaml"));
    const defaults = backupConfigSchema.parse({ version: 1 });
    expect({ ...shipped, sources: [] }).toEqual(defaults);
    expect(scheduleSchema.parse(readYaml(text("schedule.yaml"), "schedule.yaml"))).toEqual(
      scheduleSchema.parse({ version: 1 }),
    );
  });

  it("load as one model, each value attributed to its file", async () => {
    const settings = await loadSettings(SHIPPED, {});
    expect(settings.retention).toEqual(DEFAULT_RETENTION_POLICY);
    expect(settings.schedule.daily).toBe("0 0 * * *");
    expect(settings.origins.get("verify.level")).toEqual({ from: "file", file: SHIPPED });
    expect(settings.origins.get("retention.daily")).toEqual({
      from: "file",
      file: SHIPPED.replace("backup-config", "retention-policy"),
    });
    expect(settings.origins.get("schedule.rpoSweep")?.from).toBe("file");
    expect(settings.origins.has("version")).toBe(false);
  });
});

describe("defaults and environment", () => {
  it("files that are missing or silent take the default, and say so", async () => {
    const { configFile, dir } = await project();
    const settings = await loadSettings(configFile, {});
    expect(settings.baseDir).toBe(dir);
    expect(settings.backup.snapshots).toEqual({
      incremental: true,
      maxChain: 48,
      fullEveryHours: 20,
      layers: false,
    });
    expect(settings.retention).toEqual(DEFAULT_RETENTION_POLICY);
    expect(settings.origins.get("snapshots.maxChain")).toEqual({ from: "default" });
    expect(settings.origins.get("retention.daily")).toEqual({ from: "default" });
    expect(retentionSource(settings)).toBe("built-in default policy");
  });

  it("applies each of the brief's variables over the files, and records it", async () => {
    const { configFile } = await project({
      backup: "version: 1\nverify:\n  afterBackup: true\n",
      retention: "daily: 7d\nweekly: 4w\nholdRepos: [acme/a]\n",
      schedule: "version: 1\ndaily: '0 0 * * *'\n",
    });
    const settings = await loadSettings(configFile, {
      BACKUP_LOCATION: "/srv/backups",
      VERIFY_BACKUPS: "no",
      RETENTION_DAYS: " 14 ",
      LEGAL_HOLD_REPOS: "acme/b, acme/a",
      BACKUP_SCHEDULE: "30 1 * * *",
    });
    expect(settings.backup.local.dataDir).toBe("/srv/backups");
    expect(settings.backup.verify.afterBackup).toBe(false);
    expect(settings.retention.daily).toEqual({ text: "14d", months: 0, ms: 14 * 24 * HOUR });
    expect(settings.retention.weekly?.text).toBe("4w");
    expect(settings.retention.holdRepos).toEqual(["acme/a", "acme/b"]);
    expect(settings.schedule.daily).toBe("30 1 * * *");
    for (const [path, name] of [
      ["local.dataDir", "BACKUP_LOCATION"],
      ["verify.afterBackup", "VERIFY_BACKUPS"],
      ["retention.daily", "RETENTION_DAYS"],
      ["retention.holdRepos", "LEGAL_HOLD_REPOS"],
      ["schedule.daily", "BACKUP_SCHEDULE"],
    ])
      expect(settings.origins.get(path!)).toEqual({ from: "env", name });
    expect(retentionSource(settings)).toMatch(
      /retention-policy\.yaml, daily from RETENTION_DAYS, holdRepos from/,
    );
  });

  it("gs:// in BACKUP_LOCATION means the cloud backend", async () => {
    const { configFile } = await project();
    const settings = await loadSettings(configFile, { BACKUP_LOCATION: "gs://archives" });
    expect(settings.backup.backend).toBe("gcp");
    expect(settings.origins.get("backend")).toEqual({ from: "env", name: "BACKUP_LOCATION" });
  });

  it("empty variables count as unset", async () => {
    const { configFile } = await project();
    const settings = await loadSettings(configFile, {
      RETENTION_DAYS: "",
      VERIFY_BACKUPS: " ",
      BACKUP_SCHEDULE: "",
    });
    expect(settings.retention).toEqual(DEFAULT_RETENTION_POLICY);
    expect(settings.origins.get("verify.afterBackup")).toEqual({ from: "default" });
  });

  it.each([
    ["RETENTION_DAYS", "0", 'RETENTION_DAYS="0": expected a whole number of days, 1 or more'],
    ["RETENTION_DAYS", "1.5", 'RETENTION_DAYS="1.5": expected a whole number of days'],
    ["RETENTION_DAYS", "30d", 'RETENTION_DAYS="30d": expected a whole number of days'],
    ["RETENTION_DAYS", "99999999", 'RETENTION_DAYS="99999999": expected a whole number of days'],
    ["VERIFY_BACKUPS", "maybe", 'VERIFY_BACKUPS="maybe": expected true or false'],
    ["BACKUP_SCHEDULE", "daily", 'BACKUP_SCHEDULE="daily": expected a five-field cron'],
    ["BACKUP_SCHEDULE", "0 0 * *", 'BACKUP_SCHEDULE="0 0 * *": expected a five-field cron'],
    ["LEGAL_HOLD_REPOS", "acme/a,../x", 'LEGAL_HOLD_REPOS: "../x" is not "owner/name"'],
  ])("refuses %s=%j, naming the variable", async (name, value, message) => {
    const { configFile } = await project();
    await expect(loadSettings(configFile, { [name]: value })).rejects.toThrow(message);
  });

  it("names the file and key of a bad schedule, and refuses unknown keys", async () => {
    const bad = await project({ schedule: "version: 1\nprune: every day\n" });
    await expect(loadSettings(bad.configFile, {})).rejects.toThrow(
      /schedule\.yaml: prune: expected a five-field cron/,
    );
    const typo = await project({ schedule: "version: 1\ndialy: '0 0 * * *'\n" });
    await expect(loadSettings(typo.configFile, {})).rejects.toThrow(/schedule\.yaml: unknown key "dialy"/);
  });

  it("a backup config outside a config/ folder resolves paths from its own folder", async () => {
    const dir = await mkdtemp(join(tmpdir(), "infinity-settings-"));
    dirs.push(dir);
    await writeFile(join(dir, "backup.yaml"), "version: 1\n");
    expect((await loadSettings(join(dir, "backup.yaml"), {})).baseDir).toBe(dir);
  });
});
