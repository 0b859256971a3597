// The history bench's source repository: generated (bench/history-repo.ts) or a copy of a real one
// whose history is replayed from its commit dates (bench/history-real.ts).
import { git } from "../functions/core/git/exec.js";
import { replayHistory } from "./history-real.js";
import { generateHistory, type History } from "./history-repo.js";
import { benchLog } from "./summary.js";

const log = benchLog("history");
const DAY = 86_400_000;
/** The generated history's first day. */
const START = Date.parse("2023-01-02T00:00:00.000Z");

/** The generated repository (bench/history-repo.ts), from 2 January 2023. */
export async function generatedSource(
  source: string,
  run: { days: number; years: number; pushesPerDay: number; files: number },
): Promise<{ history: History; start: number }> {
  await git(["init", "--bare", "--quiet", source]);
  await git(["symbolic-ref", "HEAD", "refs/heads/main"], { env: { GIT_DIR: source } });
  const history = await generateHistory(source, {
    start: new Date(START),
    days: run.days,
    pushesPerDay: run.pushesPerDay,
    files: run.files,
    seed: `infinity-history-${run.years}-${run.pushesPerDay}-${run.files}`,
  });
  log(`generated ${history.commits} commits and ${history.pushes.length} pushes over ${run.days} days`);
  return { history, start: START };
}

/** A copy of a real repository, and the pushes that replay its history (bench/history-real.ts). */
export async function realSource(
  repo: string,
  source: string,
  run: { from: number | undefined; days: number; perDay: number },
): Promise<{ history: History; start: number }> {
  await git(["clone", "--mirror", "--quiet", repo, source]);
  const newest = Number(
    (await git(["log", "--all", "-1", "--format=%ct"], { env: { GIT_DIR: source } })).trim(),
  );
  const start = run.from ?? (Math.floor((newest * 1000) / DAY) + 1) * DAY - run.days * DAY;
  const history = await replayHistory(source, { start, days: run.days, maxPerDay: run.perDay });
  log(
    `${repo}: ${history.pushes.length} pushes over ${run.days} days from ${new Date(start).toISOString().slice(0, 10)}, ${history.commits} commits in the last state; never present: ${history.absent.join(", ") || "none"}`,
  );
  return { history, start };
}
