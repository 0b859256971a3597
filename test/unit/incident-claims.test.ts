// core/incidents.ts over the local ledgers: what a report costs in claims with many incidents open
// (the scenarios: test/helpers/incident-claims.ts; Firestore's run in test/integration).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JsonAlertLedger } from "../../functions/adapters/local/json-alert-ledger.js";
import { MemoryAlertLedger } from "../../functions/adapters/notify/memory-alert-ledger.js";
import { incidentClaimScenarios } from "../helpers/incident-claims.js";

incidentClaimScenarios("MemoryAlertLedger", async () => ({
  ledger: new MemoryAlertLedger(),
  cleanup: async () => {},
}));

incidentClaimScenarios("JsonAlertLedger", async () => {
  const dir = await mkdtemp(join(tmpdir(), "incident-claims-"));
  return {
    ledger: new JsonAlertLedger(join(dir, "alerts.json")),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});
