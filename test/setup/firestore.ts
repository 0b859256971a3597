// Starts the Cloud Firestore emulator JVM (google-cloud-cli-firestore-emulator) on a free port.
import { FAST_START_JVM_FLAGS, findEmulatorJar, javaCommand } from "./jvm.js";
import { startService, type ServiceHandle } from "./process.js";
import type { ServiceContext } from "./context.js";

export const FIRESTORE_DEBIAN_PACKAGE = "google-cloud-cli-firestore-emulator";
const MAIN_CLASS = "com.google.cloud.datastore.emulator.firestore.CloudFirestore";

export async function startFirestoreEmulator(ctx: ServiceContext): Promise<ServiceHandle> {
  const jar = findEmulatorJar(
    "cloud-firestore-emulator",
    /^cloud-firestore-emulator\.jar$/,
    FIRESTORE_DEBIAN_PACKAGE,
  );
  return startService({
    name: "firestore-emulator",
    command: javaCommand(),
    // The jar has no Main-Class, so launch it like the SDK's cloud_firestore_emulator script does.
    args: (port) => [
      ...FAST_START_JVM_FLAGS,
      "-cp",
      jar,
      MAIN_CLASS,
      "start",
      "--host=127.0.0.1",
      `--port=${port}`,
    ],
    readyUrl: (port) => `http://127.0.0.1:${port}/`,
    logDir: ctx.logDir,
    env: ctx.env,
    onSpawn: (pid) => ctx.registry.add({ name: "firestore-emulator", pid, marker: jar }),
  });
}
