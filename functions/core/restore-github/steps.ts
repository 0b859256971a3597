// The journal's discipline, in one place: each step of a restore runs once across every run of it.
// Before a write its intent is recorded, after it its result; a step found at "intent" (the run
// stopped between the two) is looked up on the target first and done again only if it is not
// there. Progress (items done of total, time left) is counted here too.
import { BackupError } from "../errors.js";
import type { JournalEntry, RestoreJournal } from "../ports.js";
import { RestoreDeadlineError, WriteRateLimitError } from "./errors.js";

export type StepResult = Record<string, unknown>;

/** Items done of total, and the estimated seconds left at this run's pace. */
export interface RestoreProgress {
  repo: string;
  phase: string;
  done: number;
  total: number;
  etaSeconds?: number;
}

export interface StepsOptions {
  repo: string;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  onProgress?: (progress: RestoreProgress) => void;
  /** Tries after a transient failure of a step (each after a look for what it made). Default 3. */
  retries?: number;
  /**
   * When (epoch ms, on `now`'s clock) this run must stop: past it, the next step not yet done
   * throws RestoreDeadlineError instead of starting, once this run has written at least one step.
   */
  deadline?: number;
  /**
   * Called before each step not yet done is written; rejecting stops the run there (the restore's
   * lease on its target, confirmed: a run that lost it to another never writes again).
   */
  beforeStep?: () => Promise<void>;
}

/** A failure that may heal by itself; a secondary limit is the pacer's, and a refusal a person's. */
function isTransient(err: unknown): boolean {
  return err instanceof BackupError && !err.permanent && !(err instanceof WriteRateLimitError);
}

export class RestoreSteps {
  private readonly entries: Map<string, JournalEntry>;
  private total = 0;
  private done = 0;
  private doneThisRun = 0;
  /** Steps this run wrote (made or found), whether or not they count as items. */
  private stepsThisRun = 0;
  private phase = "code";
  private readonly started: number;

  private constructor(
    private readonly journal: RestoreJournal,
    private readonly restoreId: string,
    entries: JournalEntry[],
    private readonly options: StepsOptions,
  ) {
    this.entries = new Map(entries.map((e) => [e.key, e]));
    this.started = options.now();
  }

  static async open(
    journal: RestoreJournal,
    restoreId: string,
    options: StepsOptions,
  ): Promise<RestoreSteps> {
    return new RestoreSteps(journal, restoreId, await journal.entries(restoreId), options);
  }

  /** Whether any step of this restore was ever started (a resumed run). */
  get resumed(): boolean {
    return this.entries.size > 0;
  }

  /** Where step `key` stands: undefined (never started), "intent" or "done". */
  stateOf(key: string): JournalEntry["state"] | undefined {
    return this.entries.get(key)?.state;
  }

  /** The result of a done step, or undefined. */
  result<R extends StepResult>(key: string): R | undefined {
    const entry = this.entries.get(key);
    return entry?.state === "done" ? (entry.result as R) : undefined;
  }

  /** Every done step whose key starts with `prefix`, with its result. */
  resultsOf<R extends StepResult>(prefix: string): [string, R][] {
    return [...this.entries.values()]
      .filter((e) => e.state === "done" && e.key.startsWith(prefix))
      .map((e) => [e.key.slice(prefix.length), e.result as R]);
  }

  /** Counts `items` more into the total (once per run, before the phase's work). */
  plan(phase: string, items: number): void {
    this.phase = phase;
    this.total += items;
    this.report();
  }

  /**
   * Runs step `key` once across runs. Done before: its result. Left at "intent": `find` looks for
   * what the write made; found, that is the result; not found (or no `find`: the write is safe to
   * repeat), the write runs again. `counts`: whether the step is one of the planned items.
   */
  async once<R extends StepResult>(
    key: string,
    write: () => Promise<R>,
    find?: () => Promise<R | undefined>,
    counts = true,
  ): Promise<R> {
    const entry = this.entries.get(key);
    if (entry?.state === "done") {
      if (counts) this.tick(false);
      return entry.result as R;
    }
    this.checkDeadline(key);
    await this.options.beforeStep?.();
    let result: R | undefined;
    if (entry?.state === "intent" && find) result = await find();
    if (!result && !entry) {
      await this.journal.intend(this.restoreId, key);
      this.entries.set(key, { key, state: "intent" });
    }
    for (let attempt = 0; !result; attempt++) {
      try {
        result = await write();
      } catch (err) {
        // A transient failure (a 5xx, a dropped connection) may have made the item: look first.
        if (!isTransient(err) || attempt >= (this.options.retries ?? 3)) throw err;
        await this.options.sleep(1000 * 2 ** attempt);
        if (find) result = await find();
      }
    }
    await this.journal.complete(this.restoreId, key, result);
    this.entries.set(key, { key, state: "done", result });
    this.stepsThisRun++;
    if (counts) this.tick(true);
    return result;
  }

  /** Items done of total so far, and the time left at this run's pace (for a run that stopped). */
  get progress(): { done: number; total: number; etaSeconds?: number } {
    const eta = this.eta();
    return { done: this.done, total: this.total, ...(eta === undefined ? {} : { etaSeconds: eta }) };
  }

  /**
   * Before a step expected to take `estimateMs` alone. Longer than a whole run of this kind has (from
   * its start to its deadline): stop here (RestoreDeadlineError, `tooLong`), even before a first
   * step, since a run would only be cut off in it by the platform, run after run. Longer than this
   * run has left, after some progress: stop as at the deadline, so a fresh run starts it. Done: nothing.
   * `budget`: a whole run's milliseconds, when the caller knows them (default: this run's).
   */
  fits(key: string, estimateMs: number, what: string, budget?: number): void {
    const { deadline } = this.options;
    if (deadline === undefined || this.stateOf(key) === "done") return;
    budget ??= deadline - this.started;
    if (estimateMs > budget)
      throw new RestoreDeadlineError(
        `${what} is expected to take about ${Math.ceil(estimateMs / 1000)} s, more than a run's ` +
          `${Math.floor(budget / 1000)} s; it goes to a run with more time`,
        this.stepsThisRun,
        true,
      );
    if (this.stepsThisRun > 0 && estimateMs > deadline - this.options.now())
      throw new RestoreDeadlineError(
        `stopped before ${key}: ${what} would outlast this run; the same restore continues from here`,
        this.stepsThisRun,
      );
  }

  /** Past the deadline, with progress made by this run: stop before step `key` (a step boundary). */
  private checkDeadline(key: string): void {
    const { deadline } = this.options;
    if (deadline === undefined || this.stepsThisRun === 0 || this.options.now() < deadline) return;
    throw new RestoreDeadlineError(
      `stopped before ${key} at the run's deadline after ${this.stepsThisRun} step(s); ` +
        "the same restore continues from here",
      this.stepsThisRun,
    );
  }

  /** Counts `items` planned items as done by a step that made them all (an import with its comments). */
  credit(items: number): void {
    this.done += items;
    this.doneThisRun += items;
    if (items) this.report();
  }

  private tick(now: boolean): void {
    this.done++;
    if (now) this.doneThisRun++;
    this.report();
  }

  /** Seconds left at this run's pace, once it has done an item. */
  private eta(): number | undefined {
    if (this.doneThisRun === 0) return undefined;
    const elapsed = (this.options.now() - this.started) / 1000;
    return Math.round((elapsed / this.doneThisRun) * (this.total - this.done) * 10) / 10;
  }

  private report(): void {
    if (!this.options.onProgress) return;
    const eta = this.eta();
    this.options.onProgress({
      repo: this.options.repo,
      phase: this.phase,
      done: this.done,
      total: this.total,
      ...(eta === undefined ? {} : { etaSeconds: eta }),
    });
  }
}
