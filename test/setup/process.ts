// Starts one long-running test service as a detached process group, waits until it answers,
// and stops the whole group by PID (SIGTERM, then SIGKILL) — the shared mechanics behind each emulator.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";

export interface ServiceSpec {
  name: string;
  command: string;
  /** Builds the argv for a given port, so a retry after a lost port race gets a fresh one. */
  args: (port: number) => string[];
  /** URL that answers 2xx once the service is ready. */
  readyUrl: (port: number) => string;
  logDir: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Called with the PID as soon as the child exists, so an orphan can be reaped later. */
  onSpawn?: (pid: number) => void;
}

export interface ServiceHandle {
  name: string;
  pid: number;
  port: number;
  logFile: string;
  startupMs: number;
  stop(): Promise<void>;
}

const POLL_MS = 100;
const DEFAULT_TIMEOUT_MS = 60_000;
const PORT_RACE = /address already in use|BindException|bind: address/i;

/** Asks the kernel for a free TCP port on 127.0.0.1 (ephemeral, released right away). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === "object" ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

export function logTail(file: string, lines = 40): string {
  try {
    const text = readFileSync(file, "utf8").trimEnd().split("\n");
    return text.slice(-lines).join("\n") || "(log is empty)";
  } catch {
    return "(no log written)";
  }
}

/** True while any process of the group led by pid still exists. */
export function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Sends a signal to the whole process group; ignores a group that is already gone. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}

export async function stopGroup(pid: number, graceMs = 3_000): Promise<void> {
  signalGroup(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (groupAlive(pid) && Date.now() < deadline) await sleep(50);
  if (groupAlive(pid)) {
    signalGroup(pid, "SIGKILL");
    const hard = Date.now() + 2_000;
    while (groupAlive(pid) && Date.now() < hard) await sleep(20);
  }
}

export async function startService(spec: ServiceSpec): Promise<ServiceHandle> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const logFile = path.join(spec.logDir, `${spec.name}.log`);
    const out = openSync(logFile, "a");
    let child: ChildProcess;
    try {
      child = spawn(spec.command, spec.args(port), {
        detached: true, // own process group, so stop() can kill the JVM and anything it forks
        stdio: ["ignore", out, out],
        env: spec.env ?? process.env,
      });
    } finally {
      closeSync(out);
    }
    const pid = await spawned(child, spec.name);
    spec.onSpawn?.(pid);
    child.unref();
    let exited: string | undefined;
    child.once("exit", (code, signal) => (exited = signal ? `signal ${signal}` : `exit code ${code}`));

    const url = spec.readyUrl(port);
    const timeoutMs = spec.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    let lastError = "no answer yet";
    while (exited === undefined && Date.now() < deadline) {
      const answer = await probe(url);
      if (answer === true && exited === undefined) {
        const stop = async () => {
          // A service that died mid-run explains the failing tests: say so while its log still exists.
          if (exited)
            console.warn(`[test-setup] ${spec.name} died during the run (${exited}):\n${logTail(logFile)}`);
          await stopGroup(pid);
        };
        return { name: spec.name, pid, port, logFile, startupMs: Date.now() - started, stop };
      }
      lastError = answer === true ? "answered, but the process had exited" : answer;
      await sleep(POLL_MS);
    }
    const early = exited; // read before stopGroup, whose SIGTERM would look like an early exit
    await stopGroup(pid);
    const tail = logTail(logFile);
    if (early !== undefined && PORT_RACE.test(tail) && attempt < 3) continue; // lost the port race
    const why = early ? `exited early (${early})` : `did not answer within ${timeoutMs / 1000}s`;
    throw new Error(
      `${spec.name} ${why} on ${url} (last probe: ${lastError}).\n` +
        `Command: ${spec.command} ${spec.args(port).join(" ")}\nLog tail (${logFile}):\n${tail}`,
    );
  }
}

function spawned(child: ChildProcess, name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    child.once("error", (err) =>
      reject(new Error(`${name}: could not start ${child.spawnfile}: ${err.message}`)),
    );
    child.once("spawn", () => resolve(child.pid as number));
  });
}

async function probe(url: string): Promise<true | string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.ok ? true : `HTTP ${res.status}`;
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    return cause?.code ?? (err as Error).message;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
