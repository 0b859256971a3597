// Starts the Cloud Pub/Sub emulator JVM (google-cloud-cli-pubsub-emulator) on a free port.
import { FAST_START_JVM_FLAGS, findEmulatorJar, javaCommand } from "./jvm.js";
import { startService, type ServiceHandle } from "./process.js";
import type { ServiceContext } from "./context.js";

export const PUBSUB_DEBIAN_PACKAGE = "google-cloud-cli-pubsub-emulator";

export async function startPubsubEmulator(ctx: ServiceContext): Promise<ServiceHandle> {
  const jar = findEmulatorJar(
    "pubsub-emulator/lib",
    /^cloud-pubsub-emulator-.*\.jar$/,
    PUBSUB_DEBIAN_PACKAGE,
  );
  return startService({
    name: "pubsub-emulator",
    command: javaCommand(),
    // Same launch as the SDK's bin/cloud-pubsub-emulator script: java -jar <all-in-one jar>.
    args: (port) => [...FAST_START_JVM_FLAGS, "-jar", jar, "--host=127.0.0.1", `--port=${port}`],
    readyUrl: (port) => `http://127.0.0.1:${port}/`,
    logDir: ctx.logDir,
    env: ctx.env,
    onSpawn: (pid) => ctx.registry.add({ name: "pubsub-emulator", pid, marker: jar }),
  });
}
