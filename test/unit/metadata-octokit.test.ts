// The resilient Octokit's spacing of writes, against a real HTTP server: writes (REST POSTs, GraphQL
// mutations) go one at a time, a "second" apart, as GitHub asks; read-only GraphQL queries are not
// held back by them or by each other.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resilientOctokit } from "../../functions/adapters/github/metadata-octokit.js";

const log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
/** One "second" of the limiter, in ms: long enough to tell apart from a local request's time. */
const SECOND = 600;

let server: Server;
let url: string;
/** Each request that reached the server: when (ms since the epoch) and what. */
const arrivals: { at: number; what: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      arrivals.push({ at: Date.now(), what: `${req.url} ${body.includes("mutation") ? "mutation" : ""}` });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(req.url === "/graphql" ? { data: { viewer: { login: "x" } } } : { ok: true }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function client() {
  const Octokit = resilientOctokit({ baseUrl: url, log, msPerSecond: SECOND });
  return new Octokit();
}

/**
 * Sends the requests at once, from a client that has made one GET already (its connection open);
 * when each reached the server, in ms after the first, by what it was.
 */
async function arrived(
  requests: (octokit: ReturnType<typeof client>) => Promise<unknown>[],
): Promise<Map<string, number>> {
  const octokit = client();
  await octokit.request("GET /zen");
  arrivals.length = 0;
  await Promise.all(requests(octokit));
  const first = Math.min(...arrivals.map((a) => a.at));
  return new Map(arrivals.map((a) => [a.what.trim(), a.at - first]));
}

const query = (octokit: ReturnType<typeof client>, text: string) =>
  octokit.request("POST /graphql", { query: text, variables: {} });

describe("resilientOctokit's spacing of writes", () => {
  it("lets read-only GraphQL queries through at once, whatever their layout", async () => {
    arrivals.length = 0;
    const octokit = client();
    await octokit.request("GET /zen");
    arrivals.length = 0;
    await Promise.all([
      query(octokit, "query { viewer { login } }"),
      query(octokit, "{ viewer { login } }"),
      query(octokit, "# a comment naming a mutation\nquery Q($n: Int) { viewer { login } }"),
    ]);
    const times = arrivals.map((a) => a.at);
    expect(times).toHaveLength(3);
    expect(Math.max(...times) - Math.min(...times)).toBeLessThan(SECOND / 2);
  });

  it("spaces GraphQL mutations and REST writes a second apart, queries not waiting behind them", async () => {
    const times = await arrived((o) => [
      query(o, 'mutation { addStar(input: {starrableId: "x"}) { clientMutationId } }'),
      o.request("POST /repos/{owner}/{repo}/labels", { owner: "acme", repo: "x", name: "t" }),
      query(o, "query { viewer { login } }"),
    ]);
    const mutation = times.get("/graphql mutation")!;
    const write = times.get("/repos/acme/x/labels")!;
    const read = times.get("/graphql")!;
    expect(write - mutation).toBeGreaterThanOrEqual(SECOND - 50);
    expect(read).toBeLessThan(SECOND / 2);
  });
});
