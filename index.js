// Entry point of the Cloud Functions deployment (package.json "main"): runs the TypeScript
// sources through tsx, then registers the functions.
import { register } from "tsx/esm/api";

register();
await import("./functions/index.ts");
