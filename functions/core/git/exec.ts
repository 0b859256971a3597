// Runs git as a child process: arguments as an array (never a shell), stderr kept for the error,
// and a clean environment so a user's git config cannot change what a backup contains.
import { spawn, type ChildProcess } from "node:child_process";
import { GitError } from "../errors.js";
import { shortenLongWords } from "./ref-names.js";

export interface GitRun {
  child: ChildProcess;
  /** Resolves when git exits 0; rejects with GitError carrying the tail of stderr otherwise. */
  done: Promise<void>;
}

/**
 * Environment for every git we start: no user/system config, no prompts, no pager. `userConfig`
 * keeps the person's own git config (credential helpers, insteadOf), for a push they asked for.
 */
export function gitEnv(extra: Record<string, string> = {}, userConfig = false): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TMPDIR: process.env.TMPDIR,
    ...(userConfig ? {} : { GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" }),
    ...(userConfig && process.env.SSH_AUTH_SOCK ? { SSH_AUTH_SOCK: process.env.SSH_AUTH_SOCK } : {}),
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "true",
    LC_ALL: "C",
    ...extra,
  };
}

export function startGit(
  args: string[],
  options: {
    cwd?: string;
    env?: Record<string, string>;
    stdin?: "pipe" | "ignore";
    userConfig?: boolean;
    /** Exit codes besides 0 that mean success for this command. */
    okExit?: number[];
  } = {},
): GitRun {
  const child = spawn("git", args, {
    cwd: options.cwd,
    env: gitEnv(options.env, options.userConfig),
    stdio: [options.stdin ?? "ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-4000);
  });
  const done = new Promise<void>((resolve, reject) => {
    child.once("error", (err) => reject(new GitError(`could not run git: ${err.message}`, { cause: err })));
    child.once("close", (code, signal) => {
      if (code === 0 || (code !== null && options.okExit?.includes(code))) return resolve();
      // A word too long to read (a hostile 6,000-character ref name) is shortened.
      const why =
        shortenLongWords(stderr.trim().split("\n").slice(-3).join(" / ")) ||
        (signal ? `killed by ${signal}` : "it printed no message on stderr");
      reject(new GitError(`${commandName(args)} failed (exit ${code ?? signal}): ${why}`));
    });
  });
  return { child, done };
}

/** Runs git to completion and returns its stdout as text. */
export async function git(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; input?: string; userConfig?: boolean } = {},
): Promise<string> {
  const run = startGit(args, { ...options, stdin: options.input === undefined ? "ignore" : "pipe" });
  let stdout = "";
  run.child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  if (options.input !== undefined) run.child.stdin!.end(options.input);
  await run.done;
  return stdout;
}

/** "git fsck --full": the command and its flags, without values that may be long or secret. */
export function commandName(args: readonly string[]): string {
  const at = args.findIndex((a) => !a.startsWith("-") && !/^[a-z.]+=/i.test(a) && a !== "-c");
  const command = at >= 0 ? args[at] : args[0];
  const flags = args.slice(at + 1).filter((a) => /^--?[a-z][a-z-]*$/i.test(a));
  return ["git", command, ...flags].join(" ");
}

export interface GitOutcome {
  /** The exit code, or null when a signal ended git. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last 8 KB of each stream. */
  stdout: string;
  stderr: string;
}

/**
 * Runs git to completion and gives its exit and output whatever they are, for commands whose
 * verdict the caller reads (fsck). Rejects only when git cannot be started.
 */
export function runGit(args: string[], options: { env?: Record<string, string> } = {}): Promise<GitOutcome> {
  const child = spawn("git", args, { env: gitEnv(options.env), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout = (stdout + chunk.toString("utf8")).slice(-8000)));
  child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-8000)));
  return new Promise((resolve, reject) => {
    child.once("error", (err) => reject(new GitError(`could not run git: ${err.message}`, { cause: err })));
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
