// core/incidents.ts over FirestoreAlertLedger on the emulator: with 500 incidents open, a report
// runs a transaction only for what is new or past the window (the scenarios:
// test/helpers/incident-claims.ts), and two instances racing still send each incident once.
import { afterAll } from "vitest";
import { FirestoreAlertLedger } from "../../functions/adapters/gcp/firestore-alert-ledger.js";
import { firestoreClient, uniqueName } from "../helpers/emulators.js";
import { incidentClaimScenarios } from "../helpers/incident-claims.js";

const firestore = firestoreClient();
afterAll(() => firestore.terminate());

incidentClaimScenarios("FirestoreAlertLedger (emulator)", async () => {
  const root = `incident-claims/${uniqueName("alerts")}`;
  return {
    ledger: new FirestoreAlertLedger({ firestore, root }),
    cleanup: () => firestore.recursiveDelete(firestore.doc(root)),
  };
});
