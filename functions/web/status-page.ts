// The status page: one self-contained HTML document (styles, data, the chart library and the
// page's script inline; nothing fetched from elsewhere), served by backupHealth to a browser and
// by `infinity-backup serve` locally. Search, the state filter and pagination run in the page, so
// 5,000 repositories are one response and no further request.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { StatusView } from "../core/status-view.js";

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
  <figure><figcaption>Storage by class</figcaption><table id="classes" data-testid="classes"></table></figure>
</section>
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
<script id="status-data" type="application/json">${scriptJson(view)}</script>
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

// The page's own script: plain DOM, no framework.
const PAGE_JS = `
(() => {
  const view = JSON.parse(document.getElementById("status-data").textContent);
  const PAGE = 50;
  const $ = (id) => document.getElementById(id);
  const bytes = (n) => { const u = ["B","KiB","MiB","GiB","TiB","PiB"]; let i = 0; while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; } return (i ? n.toFixed(1) : String(n)) + " " + u[i]; };
  const age = (iso) => { if (!iso) return "never"; const s = (Date.parse(view.at) - Date.parse(iso)) / 1000; return s < 90 ? Math.round(s) + " s ago" : s < 5400 ? Math.round(s / 60) + " min ago" : s < 172800 ? Math.round(s / 3600) + " h ago" : Math.round(s / 86400) + " d ago"; };
  const cell = (text, cls) => { const td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; return td; };

  $("verdict").textContent = view.ok ? "OK" : "NEEDS ATTENTION";
  $("verdict").className = view.ok ? "ok" : "bad";
  $("generated").textContent = view.at;
  // One badge per named check: its name and status, the reason on hover.
  for (const c of view.checks) {
    const span = document.createElement("span"); span.className = "badge " + c.status; span.dataset.testid = "check-" + c.name;
    span.title = c.reason; span.textContent = c.name + " " + c.status; document.querySelector(".checks").append(span);
  }
  const t = view.totals;
  const tiles = [["repositories", t.repos], ["healthy", t.healthy], ["stale", t.stale], ["failing", t.failing], ["unverified", t.unverified], ["deleted or out of reach", t.gone], ["snapshots", t.snapshots], ["stored", bytes(t.storedBytes)]];
  if (view.storage) tiles.push(["per month", view.storage.monthlyCost.toFixed(2) + " " + view.storage.currency]);
  for (const [label, value] of tiles) {
    const div = document.createElement("div"); div.className = "tile"; div.dataset.testid = "tile-" + label.split(" ")[0];
    const b = document.createElement("b"); b.textContent = String(value); div.append(b, label); document.querySelector(".tiles").append(div);
  }
  if (view.storage) {
    const table = $("classes");
    const head = table.insertRow(); for (const h of ["class", "archives", "stored", "per month"]) head.append(cell(h));
    for (const c of view.storage.byClass) { const r = table.insertRow(); r.append(cell(c.storageClass), cell(String(c.archives), "n"), cell(bytes(c.bytes), "n"), cell(c.monthlyCost.toFixed(2) + " " + view.storage.currency, "n")); }
  }

  const width = (el) => Math.max(320, el.clientWidth - 8);
  const days = view.series.day.map((d) => Date.parse(d + "T00:00:00Z") / 1000);
  const bars = uPlot.paths.bars({ size: [0.7, 40] });
  const charts = [];
  const chart = (id, opts, data) => { const el = $(id); charts.push([el, new uPlot({ width: width(el), height: 180, ...opts }, data, el)]); };
  chart("chart-snapshots", { series: [{}, { label: "snapshots", stroke: "#0969da", fill: "#0969da55", paths: bars }], axes: [{}, {}] }, [days, view.series.snapshots]);
  chart("chart-bytes", { series: [{}, { label: "bytes held", stroke: "#8250df", value: (u, v) => v == null ? "" : bytes(v) }], axes: [{}, { values: (u, vals) => vals.map(bytes), size: 70 }] }, [days, view.series.bytesHeld]);
  // Restores as points, the RTO as a line across the whole span (a day either side of the points,
  // or the series' days when there was no restore yet).
  const restores = [...view.restores].sort((a, b) => a.at < b.at ? -1 : 1);
  const rx = restores.map((r) => Date.parse(r.at) / 1000);
  const span = rx.length ? [rx[0] - 86400, ...rx, rx[rx.length - 1] + 86400] : [days[0], days[days.length - 1]];
  const ry = rx.length ? [null, ...restores.map((r) => r.seconds), null] : [null, null];
  chart("chart-restores", { series: [{}, { label: "restore (s)", stroke: "#1a7f37", fill: "#1a7f37", points: { show: true, size: 8 }, paths: () => null }, { label: "RTO (s)", stroke: "#cf222e", dash: [6, 4], points: { show: false } }], scales: { y: { range: (u, min, max) => [0, Math.max(max ?? 0, view.rtoSeconds) * 1.1] } } },
    [span, ry, span.map(() => view.rtoSeconds)]);
  window.addEventListener("resize", () => { for (const [el, u] of charts) u.setSize({ width: width(el), height: 180 }); });

  let page = 0;
  const matching = () => {
    const q = $("search").value.trim().toLowerCase(); const s = $("state").value;
    return view.rows.filter((r) => (!q || r.repo.toLowerCase().includes(q)) && (!s || r.state === s));
  };
  const render = () => {
    const rows = matching(); const pages = Math.max(1, Math.ceil(rows.length / PAGE)); page = Math.min(page, pages - 1);
    const body = $("rows"); body.replaceChildren();
    for (const r of rows.slice(page * PAGE, page * PAGE + PAGE)) {
      const tr = body.insertRow(); tr.dataset.repo = r.repo;
      const v = r.verification;
      const meta = r.metadataKinds.length ? r.metadataKinds.join(", ") : "-";
      const missing = Object.keys(r.metadataUnavailable);
      tr.append(cell(r.repo), cell(r.state, "state " + r.state), cell(age(r.lastSnapshot)), cell(r.lastConfirmed && r.lastConfirmed !== r.lastSnapshot ? age(r.lastConfirmed) : "-"),
        cell(v ? v.verdict + " " + v.level + ", " + age(v.at) : "not verified"), cell(String(r.chainLength), "n"), cell(String(r.snapshots), "n"), cell(bytes(r.storedBytes), "n"),
        cell(meta + (missing.length ? " (unavailable: " + missing.join(", ") + ")" : "")), cell(String(r.held), "n"),
        cell(r.lastRestore ? Math.round(r.lastRestore.seconds) + " s, " + age(r.lastRestore.at) : "-"), cell(r.lastDrill ? r.lastDrill.verdict + ", " + r.lastDrill.seconds.toFixed(1) + " s, " + age(r.lastDrill.at) : "never", r.lastDrill && r.lastDrill.verdict === "failed" ? "failing" : ""), cell([...r.problems, ...(r.note ? [r.note] : [])].join("; ") || "-"));
    }
    $("shown").textContent = rows.length ? (page * PAGE + 1) + "-" + Math.min(rows.length, page * PAGE + PAGE) + " of " + rows.length : "none of " + view.rows.length;
    $("prev").disabled = page === 0; $("next").disabled = page >= pages - 1;
  };
  $("search").addEventListener("input", () => { page = 0; render(); });
  $("state").addEventListener("change", () => { page = 0; render(); });
  $("prev").addEventListener("click", () => { page--; render(); });
  $("next").addEventListener("click", () => { page++; render(); });
  render();
  document.body.dataset.ready = "true";
})();
`;
