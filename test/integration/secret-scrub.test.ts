// A token in a remote URL never reaches a person or a log: git's own failure (a push to an
// unreachable remote), our smart-HTTP fetch's failure, the CLI's refusal of such a URL and a
// config that holds one. The token is recognisable; it may appear in no message, no stderr.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeError } from "../../functions/core/errors.js";
import { pushRefs, readRefs } from "../../functions/core/git/local-repo.js";
import { connect } from "../../functions/core/git/transport.js";
import { setLogWriter, log } from "../../functions/log.js";
import { freePort } from "../setup/process.js";
import { richRepo } from "../helpers/git-repos.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";
import { cli } from "../helpers/cli-run.js";

const TOKEN = "ghs_LeakCanary0123456789abcdefghijklmnop";

let scratch: string;
let source: string;
let deadUrl: string;
let ws: TestWorkspace;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "ib-scrub-"));
  source = await richRepo(scratch);
  deadUrl = `http://x-access-token:${TOKEN}@127.0.0.1:${await freePort()}/acme/app.git`;
  ws = await workspace({ "acme/app": source });
});
afterAll(async () => {
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

describe("a token in a remote URL", () => {
  it("is not in the message of git's failed push, nor in the log line made of it", async () => {
    const refs = await readRefs(source);
    const err = await pushRefs(source, { url: deadUrl }, refs).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    const message = describeError(err);
    expect(message).toMatch(/^push of \d+ refs failed: git push --porcelain --atomic failed \(exit 128\)/);
    expect(message).not.toContain(TOKEN);
    const lines: string[] = [];
    const previous = setLogWriter((line) => lines.push(line));
    try {
      log("ERROR", `restore failed: ${(err as Error).message}`, { remote: deadUrl });
    } finally {
      setLogWriter(previous);
    }
    expect(lines.join("\n")).toContain("127.0.0.1");
    expect(lines.join("\n")).not.toContain(TOKEN);
  });

  it("in the query string, which git echoes, is scrubbed from the message", async () => {
    const url = `http://127.0.0.1:${await freePort()}/acme/app.git?access_token=${TOKEN}`;
    const err = await pushRefs(source, { url }, await readRefs(source)).then(
      () => undefined,
      (e: unknown) => e,
    );
    // git itself prints the URL whole: without the scrubber the token would be shown.
    expect((err as Error).message).toContain(TOKEN);
    expect(describeError(err)).toContain("access_token=***");
    expect(describeError(err)).not.toContain(TOKEN);
  });

  it("is not in the message of our smart-HTTP fetch's failure", async () => {
    const err = await connect({ url: deadUrl }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(describeError(err)).toContain("127.0.0.1");
    expect(describeError(err)).not.toContain(TOKEN);
  });

  it("is refused by restore --push, naming the form, and not echoed", async () => {
    for (const [url, form] of [
      [`https://alice:${TOKEN}@github.com/acme/app.git`, "user:password@"],
      [`https://${TOKEN}@github.com/acme/app.git`, "token before @"],
      [`https://github.com/acme/app.git?access_token=${TOKEN}`, "query string"],
      [`alice:${TOKEN}@github.com:acme/app.git`, "scp form"],
    ] as const) {
      const { code, stdout, stderr } = await cli(
        "restore",
        "--repo",
        "acme/app",
        "--push",
        url,
        "--config",
        ws.configFile,
      );
      expect(code).toBe(2);
      expect(stderr).toContain("remote URLs must not hold credentials");
      expect(stderr).toContain(form);
      expect(stderr + stdout).not.toContain(TOKEN);
    }
  });

  it("in the config is refused, naming the form, and not echoed", async () => {
    const config = join(scratch, "backup-config.yaml");
    await writeFile(
      config,
      `version: 1\nsources:\n  - name: acme/app\n    url: https://github.com/acme/app.git?access_token=${TOKEN}\n`,
    );
    const { code, stdout, stderr } = await cli("list", "--config", config);
    expect(code).not.toBe(0);
    expect(stderr).toContain("remote URLs must not hold credentials (found a credential in the query string");
    expect(stderr + stdout).not.toContain(TOKEN);
  });
});
