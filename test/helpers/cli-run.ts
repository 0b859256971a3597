// Runs the `infinity-backup` command line in-process and captures what it prints and its exit code.
import { main } from "../../functions/cli/main.js";

class Capture {
  text = "";
  isTTY = false;
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(...argv: string[]): Promise<CliResult> {
  return runCli(argv);
}

/**
 * Runs the CLI with `env` added to the process environment for the call only (each variable is
 * put back as it was afterwards, removed if it was unset).
 */
export async function runCli(argv: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  const stdout = new Capture();
  const stderr = new Capture();
  try {
    const code = await main(argv, {
      stdout: stdout as unknown as NodeJS.WriteStream,
      stderr: stderr as unknown as NodeJS.WriteStream,
    });
    return { code, stdout: stdout.text, stderr: stderr.text };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
