// The status page's own script: plain DOM, no framework. It draws the tiles, badges and charts
// from the view, and shows one page of rows at a time, unpacking only those (status-rows.ts):
// search and the state filter look at each row's name and state alone.
export const PAGE_JS = `
(() => {
  performance.mark("status-script");
  const view = JSON.parse(document.getElementById("status-data").textContent);
  const { states, texts, rows: all } = view.packed;
  const PAGE = 50;
  const $ = (id) => document.getElementById(id);
  const bytes = (n) => { const u = ["B","KiB","MiB","GiB","TiB","PiB"]; let i = 0; while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; } return (i ? n.toFixed(1) : String(n)) + " " + u[i]; };
  const ago = (s) => s == null ? "never" : s < 90 ? Math.round(s) + " s ago" : s < 5400 ? Math.round(s / 60) + " min ago" : s < 172800 ? Math.round(s / 3600) + " h ago" : Math.round(s / 86400) + " d ago";
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
  // Failures per day, one bar series per kind, and each kind's sum over the days in the caption.
  const failed = view.failures;
  for (const kind of ["backup", "verification", "drill"]) $("failures-" + kind).textContent = String(failed[kind].reduce((a, b) => a + b, 0));
  chart("chart-failures", { series: [{}, { label: "backups", stroke: "#cf222e", fill: "#cf222e55", paths: bars }, { label: "verifications", stroke: "#bf8700", fill: "#bf870055", paths: bars }, { label: "drills", stroke: "#8250df", fill: "#8250df55", paths: bars }], axes: [{}, {}] },
    [days, failed.backup, failed.verification, failed.drill]);
  window.addEventListener("resize", () => { for (const [el, u] of charts) u.setSize({ width: width(el), height: 180 }); });

  // A packed row, unpacked into its cells (the order of status-rows.ts).
  const cells = (r) => {
    const state = states[r[1]]; const restore = r[12]; const drill = r[13];
    return [cell(r[0]), cell(state, "state " + state), cell(ago(r[2])), cell(r[3] == null ? "-" : ago(r[3])),
      cell(r[4] ? texts[r[4]] + ", " + ago(r[5]) : "not verified"), cell(String(r[6] ?? 0), "n"), cell(String(r[7] ?? 0), "n"), cell(bytes(r[8] ?? 0), "n"),
      cell(texts[r[9] ?? 0] || "-"), cell(String(r[10] ?? 0), "n"),
      cell(restore ? restore[1] + " s, " + ago(restore[0]) : "-"),
      cell(drill ? texts[drill[0]] + ", " + drill[2].toFixed(1) + " s, " + ago(drill[1]) : "never", drill && texts[drill[0]] === "failed" ? "failing" : ""),
      cell(texts[r[11] ?? 0] || "-")];
  };
  const lower = all.map((r) => r[0].toLowerCase());
  let page = 0;
  const matching = () => {
    const q = $("search").value.trim().toLowerCase(); const s = $("state").value; const si = states.indexOf(s);
    if (!q && !s) return all;
    return all.filter((r, i) => (!q || lower[i].includes(q)) && (!s || r[1] === si));
  };
  const render = () => {
    const rows = matching(); const pages = Math.max(1, Math.ceil(rows.length / PAGE)); page = Math.min(page, pages - 1);
    const body = $("rows"); body.replaceChildren();
    for (const r of rows.slice(page * PAGE, page * PAGE + PAGE)) { const tr = body.insertRow(); tr.dataset.repo = r[0]; tr.append(...cells(r)); }
    $("shown").textContent = rows.length ? (page * PAGE + 1) + "-" + Math.min(rows.length, page * PAGE + PAGE) + " of " + rows.length : "none of " + all.length;
    $("prev").disabled = page === 0; $("next").disabled = page >= pages - 1;
  };
  $("search").addEventListener("input", () => { page = 0; render(); });
  $("state").addEventListener("change", () => { page = 0; render(); });
  $("prev").addEventListener("click", () => { page--; render(); });
  $("next").addEventListener("click", () => { page++; render(); });
  render();
  document.body.dataset.ready = "true";
  // For bench/status-page.ts: when the script was done, and the first frame painted after it.
  performance.mark("status-ready");
  requestAnimationFrame(() => setTimeout(() => performance.mark("status-painted")));
})();
`;
