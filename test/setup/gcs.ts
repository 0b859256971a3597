// Starts fake-gcs-server (the Cloud Storage stand-in), first installing the pinned version with
// `go install` into the project-local, gitignored .tools/bin when it is missing.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { startService, type ServiceHandle } from "./process.js";
import type { ServiceContext } from "./context.js";

/** Pinned release (from `go list -m -versions github.com/fsouza/fake-gcs-server`). */
export const FAKE_GCS_SERVER_VERSION = "v1.56.1";
const MODULE = "github.com/fsouza/fake-gcs-server";
const INSTALL_TIMEOUT_MS = 15 * 60_000;

export function fakeGcsBinary(repoRoot: string): string {
  return path.join(repoRoot, ".tools", "bin", "fake-gcs-server");
}

/**
 * Makes sure .tools/bin/fake-gcs-server exists at the pinned version. A binary without a version
 * stamp (dropped there by hand) is used as is; a stamp for another version triggers a reinstall.
 */
export async function ensureFakeGcsServer(repoRoot: string): Promise<string> {
  const bin = fakeGcsBinary(repoRoot);
  const stamp = `${bin}.version`;
  const stamped = existsSync(stamp) ? readFileSync(stamp, "utf8").trim() : undefined;
  if (existsSync(bin) && (stamped === undefined || stamped === FAKE_GCS_SERVER_VERSION)) return bin;

  const go = spawnSync("go", ["version"], { encoding: "utf8" });
  if (go.error || go.status !== 0) {
    throw new Error(
      `fake-gcs-server is missing at ${bin} and Go is not available to build it ` +
        `(${go.error?.message ?? go.stderr}). Install Go (https://go.dev/dl or Debian golang-go, ` +
        `recent enough for ${MODULE}@${FAKE_GCS_SERVER_VERSION}), or run:\n` +
        `  GOBIN=${path.dirname(bin)} go install ${MODULE}@${FAKE_GCS_SERVER_VERSION}`,
    );
  }
  mkdirSync(path.dirname(bin), { recursive: true });
  console.log(
    `[test-setup] installing fake-gcs-server ${FAKE_GCS_SERVER_VERSION} into ${bin} (first run only)`,
  );
  const started = Date.now();
  await goInstall(path.dirname(bin));
  writeFileSync(stamp, `${FAKE_GCS_SERVER_VERSION}\n`);
  console.log(`[test-setup] fake-gcs-server built in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return bin;
}

function goInstall(gobin: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("go", ["install", `${MODULE}@${FAKE_GCS_SERVER_VERSION}`], {
      env: { ...process.env, GOBIN: gobin },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8_000));
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const timer = setTimeout(() => child.kill("SIGKILL"), INSTALL_TIMEOUT_MS);
    child.once("error", (err) => reject(new Error(`go install failed to start: ${err.message}`)));
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      reject(
        new Error(
          `go install ${MODULE}@${FAKE_GCS_SERVER_VERSION} failed (${signal ?? `exit ${code}`}). ` +
            `It needs the Go module proxy (GOPROXY) to be reachable.\n${output.trim()}`,
        ),
      );
    });
  });
}

export async function startFakeGcs(ctx: ServiceContext): Promise<ServiceHandle> {
  const bin = await ensureFakeGcsServer(ctx.repoRoot);
  return startService({
    name: "fake-gcs-server",
    command: bin,
    // -external-url: the Location the server hands out for resumable upload sessions, which the Node
    // client then PUTs to; it must be this http address, not the default. -public-host: the host the
    // server accepts for host-style/XML/download URLs.
    args: (port) => [
      "-scheme=http",
      "-host=127.0.0.1",
      `-port=${port}`,
      "-backend=memory",
      `-external-url=http://127.0.0.1:${port}`,
      `-public-host=127.0.0.1:${port}`,
      "-log-level=warn",
    ],
    readyUrl: (port) => `http://127.0.0.1:${port}/storage/v1/b`,
    logDir: ctx.logDir,
    env: ctx.env,
    timeoutMs: 30_000,
    onSpawn: (pid) => ctx.registry.add({ name: "fake-gcs-server", pid, marker: bin }),
  });
}
