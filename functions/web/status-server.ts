// `infinity-backup serve`: the status page over the local data folder, on 127.0.0.1 unless told
// otherwise. GET / is the page, GET /health.json the same report as `status --json`.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { LocalApp } from "../app.js";
import { describeError } from "../core/errors.js";
import { healthJson } from "../core/health.js";
import { localCheckPorts } from "../cli/health-checks.js";
import { capacityNeedsProjection } from "../core/capacity.js";
import { statusData } from "./status-data.js";
import { renderStatusPage } from "./status-page.js";

export interface StatusServer {
  url: string;
  close(): Promise<void>;
}

export async function startStatusServer(
  app: LocalApp,
  options: { host?: string; port?: number } = {},
): Promise<StatusServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res
        .writeHead(405, { allow: "GET, HEAD", "content-type": "application/json" })
        .end('{"error":"method not allowed"}');
      return;
    }
    if (path !== "/" && path !== "/health.json") {
      res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
      return;
    }
    void (async () => {
      try {
        const expected = (await app.sources.listRepos()).map((r) => r.name);
        // The page shows no projection: the year is replayed for it only when a capacity rule
        // looks ahead; /health.json carries it, like status --json.
        const page = path !== "/health.json";
        const { report, view } = await statusData(app, expected, {
          projectedRepos: page && !capacityNeedsProjection(app.settings.backup.capacity) ? 0 : 5,
          checks: localCheckPorts(app),
        });
        if (path === "/health.json") {
          res
            .writeHead(200, { "content-type": "application/json; charset=utf-8" })
            .end(JSON.stringify(healthJson(report)));
        } else {
          res
            .writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" })
            .end(renderStatusPage(view));
        }
      } catch (err) {
        res
          .writeHead(500, { "content-type": "application/json" })
          .end(JSON.stringify({ error: describeError(err) }));
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 8787, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
