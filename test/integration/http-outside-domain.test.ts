// Every HTTP function's work runs outside the Node domain the Functions Framework makes for each
// request (handlers/http.ts answer(), handlers/outside-domain.ts), through the real framework
// server and real fetch; what the work throws, at once or after an await, still reaches its own
// request's response, also with every function called at the same time.
import { readFile } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import * as functions from "@google-cloud/functions-framework";
import { getTestServer } from "@google-cloud/functions-framework/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CloudApp } from "../../functions/app.js";
import { NotFoundError, UserInputError } from "../../functions/core/errors.js";
import { answer } from "../../functions/handlers/http.js";
import { registerFunctions } from "../../functions/register.js";

/** Whether this code runs inside a Node domain (`process.domain`, which @types/node leaves out). */
const inADomain = () => (process as { domain?: unknown }).domain !== undefined;
/** Whether each function's work was inside a domain when it asked for its app. */
const inDomain = new Map<string, boolean>();
const servers = new Map<string, Server>();
let httpFunctions: string[] = [];

const url = (name: string) => `http://127.0.0.1:${(servers.get(name)!.address() as AddressInfo).port}/`;

async function call(name: string, method = "POST"): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url(name), {
    method,
    headers: { "content-type": "application/json", "x-hub-signature-256": "sha256=00" },
    ...(method === "POST" ? { body: "{}" } : {}),
  });
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  // The HTTP functions, as register.ts registers them (the others are Pub/Sub events).
  const source = await readFile("functions/register.ts", "utf8");
  httpFunctions = [...source.matchAll(/functions\.http\(\s*"(\w+)"/g)].map((m) => m[1]!);
  // Each function's app: a record of the domain its work asks from, then a refusal naming it.
  registerFunctions((fn) => async (): Promise<CloudApp> => {
    inDomain.set(fn, inADomain());
    await sleep(5);
    throw new UserInputError(`${fn} has no app in this test`);
  });
  functions.http("probe", (req, res) =>
    answer("probe", res, async () => {
      const before = inADomain();
      await sleep(5);
      if (req.query.fail === "late") throw new NotFoundError("nothing here (probe)");
      return { body: { before, after: inADomain() } };
    }),
  );
  for (const name of [...httpFunctions, "probe"]) {
    const server = getTestServer(name);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.set(name, server);
  }
});

afterAll(async () => {
  for (const server of servers.values()) await new Promise((resolve) => server.close(resolve));
});

describe("HTTP functions run their work outside the request's domain", () => {
  it("the framework does make a domain for each request (this test can fail)", async () => {
    let seen: boolean | undefined;
    functions.http("bare", (_req, res) => {
      seen = inADomain();
      res.json({});
    });
    const server = getTestServer("bare");
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.set("bare", server);
    expect((await call("bare")).status).toBe(200);
    expect(seen).toBe(true);
  });

  it("a work's answer is built outside the domain, before and after an await", async () => {
    expect(await call("probe", "GET")).toEqual({ status: 200, body: { before: false, after: false } });
  });

  it("an error after an await reaches its response, with its status and message", async () => {
    const res = await fetch(`${url("probe")}?fail=late`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "nothing here (probe)" });
  });

  it("every HTTP function, all called at once: work outside the domain, each refusal in its own response", async () => {
    expect(httpFunctions.sort()).toEqual(
      [
        "backupHealth",
        "forgetRepo",
        "githubWebhook",
        "restoreDrill",
        "restoreOrg",
        "restoreRepo",
        "rotateKeys",
      ].sort(),
    );
    const answers = await Promise.all(httpFunctions.map((name) => call(name)));
    // restoreOrg's GET (its report) as well as its POST.
    answers.push(await call("restoreOrg", "GET"));
    for (const [i, name] of [...httpFunctions, "restoreOrg"].entries()) {
      expect(answers[i], name).toEqual({ status: 400, body: { error: `${name} has no app in this test` } });
      expect(inDomain.get(name), name).toBe(false);
    }
  });
});
