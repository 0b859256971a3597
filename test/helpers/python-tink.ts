// A Python with Google's `tink` package, for tests that run tools/decrypt.py: a venv in the
// project-local, gitignored .tools/tink-venv, made on first use with `pip install tink==<pin>`
// (about 10 s). INFINITY_TEST_TINK_PYTHON names another interpreter that has tink already.
// Where none can be had (no python3, no venv module, no package index), it says why instead, and
// the tests that need it skip with that reason.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

export const TINK_VERSION = "1.16.1";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const venv = path.join(repoRoot, ".tools", "tink-venv");
const python = path.join(venv, "bin", "python");
const stamp = path.join(venv, "tink.version");

function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.once("error", (err) => resolve({ code: null, output: err.message }));
    child.once("close", (code) => resolve({ code, output }));
  });
}

let pending: Promise<{ python: string } | { skip: string }> | undefined;

/** The interpreter to run tools/decrypt.py with, or why there is none. */
export function pythonWithTink(): Promise<{ python: string } | { skip: string }> {
  pending ??= (async () => {
    const given = process.env.INFINITY_TEST_TINK_PYTHON;
    if (given) return { python: given };
    const stamped = existsSync(stamp) ? readFileSync(stamp, "utf8").trim() : undefined;
    if (existsSync(python) && stamped === TINK_VERSION) return { python };
    const steps: [string, string[]][] = [
      ["python3", ["-m", "venv", "--clear", venv]],
      [python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", `tink==${TINK_VERSION}`]],
    ];
    for (const [command, args] of steps) {
      const { code, output } = await run(command, args);
      if (code !== 0) {
        const tail = output.trim().split("\n").slice(-3).join(" / ");
        return {
          skip: `Python tink ${TINK_VERSION} cannot be installed here (${command} ${args.join(" ")}: ${tail})`,
        };
      }
    }
    writeFileSync(stamp, `${TINK_VERSION}\n`);
    return { python };
  })();
  return pending;
}
