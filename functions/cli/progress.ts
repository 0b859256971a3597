// Live progress on stderr: a redrawn line on a terminal, a line every few seconds elsewhere
// (CI logs, pipes). Silent with --quiet or when stdout carries --json and stderr is not a TTY.
import type { Progress } from "../core/deps.js";
import { scrub } from "../core/redact.js";
import { bar, bytes } from "./format.js";

export class ProgressLine {
  private lastDraw = 0;
  private started = Date.now();
  private phaseStarted = Date.now();
  private phase = "";
  private drawn = false;
  prefix = "";

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly enabled: boolean,
  ) {}

  update(progress: Progress): void {
    if (!this.enabled) return;
    const key = `${progress.repo}:${progress.phase}`;
    if (key !== this.phase) {
      this.phase = key;
      this.phaseStarted = Date.now();
    }
    const now = Date.now();
    const interval = this.out.isTTY ? 100 : 5000;
    if (now - this.lastDraw < interval && progress.bytes !== progress.totalBytes) return;
    this.lastDraw = now;
    const seconds = Math.max(0.001, (now - this.phaseStarted) / 1000);
    const speed = `${bytes(progress.bytes / seconds)}/s`;
    const amount = progress.totalBytes
      ? `${bar(progress.bytes / progress.totalBytes, 16)} ${bytes(progress.bytes)} of ${bytes(progress.totalBytes)}`
      : bytes(progress.bytes);
    this.write(`${this.prefix}${progress.repo}  ${progress.phase.padEnd(9)} ${amount}  ${speed}`);
  }

  /** Prints a finished line that stays (not overwritten by the next update). */
  log(line: string): void {
    if (!this.enabled) return;
    this.clear();
    this.out.write(scrub(line) + "\n");
  }

  private write(text: string): void {
    const line = scrub(text); // a repository URL or a git message may carry a credential
    if (this.out.isTTY) {
      const width = this.out.columns ?? 100;
      this.out.write(`\r\x1b[2K${line.slice(0, width - 1)}`);
      this.drawn = true;
    } else {
      this.out.write(line + "\n");
    }
  }

  clear(): void {
    if (this.drawn && this.out.isTTY) this.out.write("\r\x1b[2K");
    this.drawn = false;
  }

  elapsedSeconds(): number {
    return (Date.now() - this.started) / 1000;
  }
}
