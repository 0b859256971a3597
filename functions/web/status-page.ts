// The status page: one self-contained HTML document (styles, data, the chart library and the
// page's script inline; nothing fetched from elsewhere), served by backupHealth to a browser and
// by `infinity-backup serve` locally. Search, the state filter and pagination run in the page, so
// 5,000 repositories are one response and no further request; the rows travel packed
// (status-rows.ts), and the script draws only the page of rows shown.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { StatusView } from "../core/status-view.js";
import { packRows } from "./status-rows.js";
import { PAGE_JS } from "./status-script.js";

const require = createRequire(import.meta.url);
let chartLibrary: { js: string; css: string } | undefined;

/** uPlot (MIT, ~50 KB), read once from the installed package. */
function uplot(): { js: string; css: string } {
  chartLibrary ??= {
    js: readFileSync(require.resolve("uplot/dist/uPlot.iife.min.js"), "utf8"),
    css: readFileSync(require.resolve("uplot/dist/uPlot.min.css"), "utf8"),
  };
  return chartLibrary;
}

/** JSON safe inside a <script> element: no "</script>", no "<!--". */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

export function renderStatusPage(view: StatusView, title = "infinity-backup"): string {
  const { js, css } = uplot();
  const { rows, ...summary } = view;
  const data = { ...summary, packed: packRows({ at: view.at, rows }) };
  const escapedTitle = title.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapedTitle} status</title>
<style>${css}
${PAGE_CSS}</style>
</head>
<body>
<header>
  <h1>${escapedTitle} <span id="verdict" data-testid="verdict"></span></h1>
  <p class="muted">Report of <time id="generated" data-testid="generated"></time>. RPO 15 minutes, RTO 1 hour.</p>
</header>
<section class="checks" data-testid="checks"></section>
<section class="tiles" data-testid="tiles"></section>
<section class="charts">
  <figure><figcaption>Snapshots per day</figcaption><div id="chart-snapshots" data-testid="chart-snapshots"></div></figure>
  <figure><figcaption>Bytes held, by the day they were written</figcaption><div id="chart-bytes" data-testid="chart-bytes"></div></figure>
  <figure><figcaption>Restore and drill times against the 1-hour RTO</figcaption><div id="chart-restores" data-testid="chart-restores"></div></figure>
  <figure><figcaption>Failures per day: <span data-testid="failures-backup" id="failures-backup"></span> backups, <span data-testid="failures-verification" id="failures-verification"></span> verifications, <span data-testid="failures-drill" id="failures-drill"></span> drills in 60 days</figcaption><div id="chart-failures" data-testid="chart-failures"></div></figure>
  <figure><figcaption>Storage by class</figcaption><table id="classes" data-testid="classes"></table></figure>
</section>
<p class="muted" data-testid="audit-window">Restores, drills and failures: the audit trail from ${view.audit.since.slice(0, 10)} on, as stored; its hash chain is not verified here (<code>infinity-backup audit verify</code> proves it).</p>
<section>
  <div class="controls">
    <input id="search" data-testid="search" type="search" placeholder="Search repositories" aria-label="Search repositories">
    <select id="state" data-testid="state" aria-label="Filter by state">
      <option value="">every state</option><option>healthy</option><option>stale</option><option>failing</option><option>unverified</option><option>gone</option>
    </select>
    <span id="shown" data-testid="shown" class="muted"></span>
    <button id="prev" data-testid="prev">&larr;</button><button id="next" data-testid="next">&rarr;</button>
  </div>
  <table class="repos" data-testid="repos">
    <thead><tr><th>repository</th><th>state</th><th>last snapshot</th><th>last seen unchanged</th><th>verification</th><th class="n">chain</th><th class="n">snapshots</th><th class="n">stored</th><th>metadata</th><th class="n">held</th><th>last restore</th><th>last drill</th><th>problems</th></tr></thead>
    <tbody id="rows"></tbody>
  </table>
</section>
<script id="status-data" type="application/json">${scriptJson(data)}</script>
<script>${js}</script>
<script>${PAGE_JS}</script>
</body>
</html>
`;
}

const PAGE_CSS = `
:root { --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --muted: #57606a; --line: #d0d7de; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 24px 24px; color: #1f2328; }
h1 { font-size: 22px; margin: 16px 0 0; }
.muted { color: var(--muted); }
.tiles { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.tile { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 110px; }
.tile b { display: block; font-size: 22px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 12px; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 8px; }
figcaption { font-weight: 600; margin-bottom: 4px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
.n { text-align: right; }
.controls { display: flex; gap: 8px; align-items: center; margin: 16px 0 8px; }
.state { font-weight: 600; }
.healthy { color: var(--ok); } .stale, .unverified { color: var(--warn); } .failing { color: var(--bad); } .gone { color: var(--muted); }
#verdict.ok { color: var(--ok); } #verdict.bad { color: var(--bad); }
.checks { display: flex; flex-wrap: wrap; gap: 8px; margin: 12px 0 0; }
.badge { border-radius: 12px; padding: 2px 10px; color: #fff; font-weight: 600; cursor: help; }
.badge.ok { background: var(--ok); } .badge.warning { background: var(--warn); } .badge.failed { background: var(--bad); }
`;
