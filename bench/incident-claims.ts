// `npx tsx bench/incident-claims.ts [--incidents 500] [--rounds 5]`: what notifications add to a
// status page load when every stale repository was already sent. On the Firestore emulator, one
// channel's report of --incidents stale repositories opens them all (first report, timed), then
// the same report is timed --rounds times, as the next loads inside the resend window run it. It
// prints the medians with the claims (transactions) and messages of a round. Only public APIs of
// core/incidents.ts and the Firestore ledger are used, so a copy of this file measures an older
// checkout the same way (for an A/B in the same minutes).
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { Firestore } from "@google-cloud/firestore";
import { FirestoreAlertLedger } from "../functions/adapters/gcp/firestore-alert-ledger.js";
import { incidentNotifier } from "../functions/core/incidents.js";
import type { Alert } from "../functions/core/ports.js";
import { median } from "./measure.js";
import { startServices } from "./services.js";
import { benchLog, machineLine } from "./summary.js";

const { values } = parseArgs({
  options: {
    incidents: { type: "string", default: "500" },
    rounds: { type: "string", default: "5" },
  },
});
const incidents = Number(values.incidents);
const rounds = Number(values.rounds);
const say = benchLog("incident-claims");

const when = new Date().toISOString();
const alerts: Alert[] = Array.from({ length: incidents }, (_, i) => ({
  kind: "repository-stale",
  repo: `acme/repo-${i}`,
  why: "stale: last backed up 50 h ago",
  when,
}));

/** One report's wall time, with the claims it made and the messages it sent. */
async function timed(report: () => Promise<void>, counts: { claims: number; sent: number }) {
  const before = { ...counts };
  const started = performance.now();
  await report();
  return {
    ms: performance.now() - started,
    claims: counts.claims - before.claims,
    sent: counts.sent - before.sent,
  };
}

const services = await startServices(["firestore"], say);
const firestore = new Firestore({ projectId: services.projectId });
try {
  const ledger = new FirestoreAlertLedger({
    firestore,
    root: `bench/incidents-${randomBytes(4).toString("hex")}`,
  });
  const counts = { claims: 0, sent: 0 };
  const claim = ledger.claim.bind(ledger);
  ledger.claim = (key, at, resendBefore) => {
    counts.claims++;
    return claim(key, at, resendBefore);
  };
  const notifier = incidentNotifier(
    [{ channel: { name: "bench", send: async () => void counts.sent++ }, id: "0:bench" }],
    ledger,
    { now: () => new Date() },
    (name, err) => {
      throw new Error(`${name}: ${String(err)}`);
    },
  );
  const report = () => notifier.report(alerts, () => true, when);
  const first = await timed(report, counts);
  say(`first report: ${first.ms.toFixed(0)} ms, ${first.claims} claims, ${first.sent} messages`);
  const again = [];
  for (let round = 0; round < rounds; round++) again.push(await timed(report, counts));
  const ms = median(again.map((r) => r.ms));
  console.log(
    `${incidents} incidents open and sent, one channel, Firestore emulator: first report ` +
      `${first.ms.toFixed(0)} ms (${first.claims} claims, ${first.sent} messages); next report, median of ` +
      `${rounds}: ${ms.toFixed(0)} ms (${again.map((r) => r.ms.toFixed(0)).join(", ")}), ` +
      `${again[0]!.claims} claims, ${again[0]!.sent} messages a round. ${machineLine()}`,
  );
} finally {
  await firestore.terminate();
  await services.stop();
}
