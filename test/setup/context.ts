// What every service starter gets from the global setup: where to log, the child environment, the PID registry.
import type { PidRegistry } from "./orphans.js";

export interface ServiceContext {
  /** Per-run temp directory for service logs and data. */
  logDir: string;
  /** Environment for the children (no emulator variables pointing at each other). */
  env: NodeJS.ProcessEnv;
  registry: PidRegistry;
  /** Repository root, for the project-local tools folder. */
  repoRoot: string;
}
