// The history bench's source: years of a repository's life generated in one `git fast-import` run,
// with the state of its refs after every push. Text files change a few lines at a time (git deltas
// them as it would real code); topic branches fork, get rebased and force-pushed, merge and go;
// a release is tagged each month. The simulation replays the pushes by setting the refs.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { git, gitEnv } from "../functions/core/git/exec.js";
import type { RefMap } from "../functions/core/model.js";
import { SeededRandom } from "./make-repo.js";

const DAY = 86_400_000;

export interface HistoryOptions {
  /** First day of the history, 00:00 UTC. */
  start: Date;
  days: number;
  /** Mean pushes on a weekday (weekends: one push on about one day in six). */
  pushesPerDay: number;
  /** Text files at the start (about 4 KiB each); the tree grows by about one file every 8 commits. */
  files: number;
  seed: string;
}

export interface Push {
  /** Epoch milliseconds. */
  at: number;
  /** The refs after the push (the whole state, deletions included by absence). */
  refs: RefMap;
  what: string;
}

export interface History {
  pushes: Push[];
  commits: number;
}

/** A ref's target before the import resolves it: a commit's mark or an annotated tag's name. */
type Target = { mark: number } | { tag: string };

interface Branch {
  tip: number;
  files: Map<string, string>;
  /** Paths changed since the branch forked from main (a merge takes these). */
  changed: Set<string>;
}

/** Generates the history into the bare repository `repo` (created empty by the caller). */
export async function generateHistory(repo: string, options: HistoryOptions): Promise<History> {
  const rnd = new SeededRandom(options.seed);
  const words = Array.from({ length: 1500 }, () =>
    Array.from({ length: 2 + rnd.int(9) }, () => String.fromCharCode(97 + rnd.int(26))).join(""),
  );
  const line = () =>
    Array.from({ length: 3 + rnd.int(10) }, () => words[rnd.int(words.length)]!).join(" ") + "\n";
  const fileText = () => Array.from({ length: 40 + rnd.int(120) }, line).join("");
  const newPath = (n: number) => `src/m${rnd.int(24)}/f${n}.txt`;

  const importer = startFastImport(repo, join(repo, "history.marks"));
  let mark = 0;
  let pathCount = 0;
  let commits = 0;
  const main: Branch = { tip: 0, files: new Map(), changed: new Set() };
  for (; pathCount < options.files; pathCount++) main.files.set(newPath(pathCount), fileText());

  /** Edits a few lines of 1-4 files (sometimes a new one) on `branch`; returns the changed paths. */
  const edit = (branch: Branch): string[] => {
    const paths = [...branch.files.keys()];
    const changed: string[] = [];
    for (let n = 1 + rnd.int(4); n > 0; n--) {
      if (rnd.next() < 0.12) {
        const path = newPath(pathCount++);
        branch.files.set(path, fileText());
        changed.push(path);
        continue;
      }
      const path = paths[rnd.int(paths.length)]!;
      const lines = branch.files.get(path)!.split("\n").slice(0, -1);
      for (let k = 1 + rnd.int(4); k > 0; k--) lines[rnd.int(lines.length)] = line().slice(0, -1);
      for (let k = rnd.int(4); k > 0; k--) lines.splice(rnd.int(lines.length + 1), 0, line().slice(0, -1));
      branch.files.set(path, lines.join("\n") + "\n");
      changed.push(path);
    }
    for (const path of changed) branch.changed.add(path);
    return changed;
  };
  const commit = async (
    ref: string,
    at: number,
    message: string,
    paths: string[],
    files: Map<string, string>,
    from: number,
    merge?: number,
  ): Promise<number> => {
    const m = ++mark;
    const who = `Dev <dev@example.invalid> ${Math.floor(at / 1000)} +0000`;
    let text = `commit ${ref}\nmark :${m}\nauthor ${who}\ncommitter ${who}\ndata ${Buffer.byteLength(message)}\n${message}\n`;
    if (from) text += `from :${from}\n`;
    if (merge) text += `merge :${merge}\n`;
    for (const path of paths) {
      const body = files.get(path)!;
      text += `M 100644 inline ${path}\ndata ${Buffer.byteLength(body)}\n${body}\n`;
    }
    await importer.write(text + "\n");
    commits++;
    return m;
  };

  main.tip = await commit(
    "refs/heads/main",
    options.start.getTime(),
    "Initial import",
    [...main.files.keys()],
    main.files,
    0,
  );
  const topics = new Map<string, Branch>();
  const tags = new Map<string, Target>();
  let topicCount = 0;
  let release = 0;
  let releasedMonth = "";
  const pushes: { at: number; refs: Map<string, Target>; what: string }[] = [];
  const state = (): Map<string, Target> => {
    const refs = new Map<string, Target>([["refs/heads/main", { mark: main.tip }]]);
    for (const [name, topic] of topics) refs.set(`refs/heads/${name}`, { mark: topic.tip });
    for (const [name, target] of tags) refs.set(`refs/tags/${name}`, target);
    return refs;
  };

  pushes.push({ at: options.start.getTime(), refs: state(), what: "initial import" });
  for (let day = 0; day < options.days; day++) {
    const midnight = options.start.getTime() + day * DAY;
    const weekday = new Date(midnight).getUTCDay() % 6 !== 0;
    const count = weekday ? poisson(rnd, options.pushesPerDay) : rnd.next() < 1 / 6 ? 1 : 0;
    const times = Array.from({ length: count }, () => midnight + (8 + rnd.next() * 12) * 3_600_000).sort(
      (a, b) => a - b,
    );
    for (const at of times) {
      const roll = rnd.next();
      let what: string;
      const open = [...topics.keys()];
      if (roll < 0.12 && open.length > 0) {
        // Merge a topic into main and delete the branch.
        const name = open[rnd.int(open.length)]!;
        const topic = topics.get(name)!;
        for (const path of topic.changed) main.files.set(path, topic.files.get(path)!);
        main.tip = await commit(
          "refs/heads/main",
          at,
          `Merge ${name}`,
          [...topic.changed],
          main.files,
          main.tip,
          topic.tip,
        );
        topics.delete(name);
        what = `merge ${name}`;
      } else if (roll < 0.16 && open.length > 0) {
        // Rebase a topic on main and force-push it: its old commits become unreachable.
        const name = open[rnd.int(open.length)]!;
        const topic: Branch = { tip: main.tip, files: new Map(main.files), changed: new Set() };
        topic.tip = await commit(
          `refs/heads/${name}`,
          at,
          `Rework ${name}`,
          edit(topic),
          topic.files,
          main.tip,
        );
        topics.set(name, topic);
        what = `force-push ${name}`;
      } else if (roll < 0.4) {
        // Work on a topic branch, opening one if none is open (at most three at once).
        let name = open[rnd.int(open.length)];
        if (name === undefined || (open.length < 3 && rnd.next() < 0.3)) {
          name = `topic-${++topicCount}`;
          topics.set(name, { tip: main.tip, files: new Map(main.files), changed: new Set() });
        }
        const topic = topics.get(name)!;
        topic.tip = await commit(
          `refs/heads/${name}`,
          at,
          `Work on ${name}`,
          edit(topic),
          topic.files,
          topic.tip,
        );
        what = `push ${name}`;
      } else {
        for (let n = 1 + rnd.int(3); n > 0; n--)
          main.tip = await commit(
            "refs/heads/main",
            at - n * 60_000,
            `Change ${commits}`,
            edit(main),
            main.files,
            main.tip,
          );
        main.changed.clear();
        what = "push main";
      }
      const month = new Date(at).toISOString().slice(0, 7);
      if (month !== releasedMonth && what === "push main") {
        releasedMonth = month;
        const name = `v1.${++release}`;
        const message = `Release ${name}\n`;
        await importer.write(
          `tag ${name}\nfrom :${main.tip}\ntagger Dev <dev@example.invalid> ${Math.floor(at / 1000)} +0000\ndata ${message.length}\n${message}\n`,
        );
        tags.set(name, { tag: name });
        what += ` + tag ${name}`;
      }
      pushes.push({ at, refs: state(), what });
    }
  }
  await importer.finish();
  const resolved = await resolveTargets(repo, join(repo, "history.marks"));
  return {
    commits,
    pushes: pushes.map(({ at, refs, what }) => ({
      at,
      what,
      refs: Object.fromEntries([...refs].map(([ref, target]) => [ref, resolved(target)])),
    })),
  };
}

/** A Poisson-distributed count (Knuth's method; small means only). */
function poisson(rnd: SeededRandom, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = rnd.next(); p > limit; p *= rnd.next()) k++;
  return k;
}

function startFastImport(repo: string, marksFile: string) {
  const child = spawn("git", ["fast-import", "--quiet", `--export-marks=${marksFile}`], {
    env: gitEnv({ GIT_DIR: repo }),
    stdio: ["pipe", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`git fast-import exited ${code}: ${stderr.trim()}`)),
    );
  });
  exited.catch(() => undefined); // observed by write() and finish()
  return {
    async write(text: string): Promise<void> {
      if (!child.stdin.write(text)) await Promise.race([once(child.stdin, "drain"), exited]);
    },
    async finish(): Promise<void> {
      child.stdin.end("done\n");
      await exited;
    },
  };
}

/** Turns marks and tag names into object ids, from the marks file and the tags the import wrote. */
async function resolveTargets(repo: string, marksFile: string): Promise<(target: Target) => string> {
  const marks = new Map<number, string>();
  for (const row of (await readFile(marksFile, "utf8")).split("\n")) {
    const match = /^:(\d+) ([0-9a-f]{40})$/.exec(row);
    if (match) marks.set(Number(match[1]), match[2]!);
  }
  const tags = new Map<string, string>();
  const listed = await git(["for-each-ref", "--format=%(refname:strip=2) %(objectname)", "refs/tags"], {
    env: { GIT_DIR: repo },
  });
  for (const row of listed.split("\n").filter(Boolean)) {
    const [name, oid] = row.split(" ");
    tags.set(name!, oid!);
  }
  return (target) => {
    const oid = "mark" in target ? marks.get(target.mark) : tags.get(target.tag);
    if (oid === undefined) throw new Error(`history: no object for ${JSON.stringify(target)}`);
    return oid;
  };
}
