// A local app in a temp folder for tests: config file, data dir and sources, all thrown away after.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Clock } from "../../functions/core/ports.js";
import { openApp, type LocalApp as App } from "../../functions/wiring.js";

export interface TestWorkspace {
  dir: string;
  configFile: string;
  open(clock?: Clock): Promise<App>;
  cleanup(): Promise<void>;
}

/** `sources` maps "owner/name" to a path or URL (or to both a repository's and its wiki's). */
export async function workspace(
  sources: Record<string, string | { url: string; wiki: string }>,
  extra = "",
): Promise<TestWorkspace> {
  const dir = await mkdtemp(join(tmpdir(), "infinity-test-"));
  await mkdir(join(dir, "config"));
  const configFile = join(dir, "config", "backup-config.yaml");
  const list = Object.entries(sources)
    .map(([name, where]) => {
      const { url, wiki } = typeof where === "string" ? { url: where, wiki: undefined } : where;
      return `  - name: ${name}\n    url: ${JSON.stringify(url)}\n${wiki ? `    wiki: ${JSON.stringify(wiki)}\n` : ""}`;
    })
    .join("");
  await writeFile(
    configFile,
    `version: 1\nbackend: local\nlocal:\n  dataDir: data\nsources:\n${list || "  []\n"}${extra}`,
  );
  return {
    dir,
    configFile,
    open: (clock) => openApp(configFile, { clock, env: {} }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A clock tests move by hand. */
export function manualClock(
  start = "2026-11-27T00:00:00.000Z",
): Clock & { set(iso: string): void; advance(ms: number): void } {
  let now = new Date(start);
  return {
    now: () => new Date(now),
    set: (iso) => (now = new Date(iso)),
    advance: (ms) => (now = new Date(now.getTime() + ms)),
  };
}
