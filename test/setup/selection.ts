// Decides whether a run needs the emulators: a `vitest run` limited to test/unit, test/infra,
// test/compiled and test/property (pure code, Terraform parsing, the compiled package, the local
// adapters in a temp folder) does not pay for two JVMs; any other selection starts them.
import path from "node:path";
import type { TestProject } from "vitest/node";

const PURE_DIRS = ["test/unit/", "test/infra/", "test/compiled/", "test/browser/", "test/property/"];

/** Returns why the services can be left off, or undefined when they must start. */
export async function servicesNotNeeded(project: TestProject): Promise<string | undefined> {
  if (process.env.INFINITY_TEST_EMULATORS === "off") return "INFINITY_TEST_EMULATORS=off";
  if (process.env.INFINITY_TEST_EMULATORS === "on" || project.config.watch) return undefined;
  // The CLI file filters; an internal field, so anything unexpected falls back to starting everything.
  const filters = (project.vitest as unknown as { filenamePattern?: unknown }).filenamePattern;
  if (!Array.isArray(filters) || filters.length === 0) return undefined;
  try {
    const { testFiles } = await project.globTestFiles(filters as string[]);
    const rel = testFiles.map((f) => path.relative(project.config.root, f).split(path.sep).join("/"));
    if (rel.length > 0 && rel.every((f) => PURE_DIRS.some((d) => f.startsWith(d)))) {
      return `only ${PURE_DIRS.join(" and ")} files selected`;
    }
  } catch {
    /* fall through: start the services */
  }
  return undefined;
}
