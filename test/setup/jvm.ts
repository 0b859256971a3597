// Finds the Google Cloud SDK emulator jars and the java binary, failing with the Debian package to install.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";

/** Where the google-cloud-cli Debian packages (and the tarball SDK) put their files. */
function sdkRoots(): string[] {
  // INFINITY_TEST_CLOUDSDK_ROOT pins the search to one SDK (and lets the "missing jar" error be tried).
  if (process.env.INFINITY_TEST_CLOUDSDK_ROOT) return [process.env.INFINITY_TEST_CLOUDSDK_ROOT];
  const roots = [process.env.CLOUDSDK_ROOT_DIR, "/usr/lib/google-cloud-sdk", "/usr/share/google-cloud-sdk"];
  if (process.env.HOME) roots.push(path.join(process.env.HOME, "google-cloud-sdk"));
  return roots.filter((r): r is string => !!r);
}

/**
 * Returns the first file under <sdk>/platform/<dir> whose name matches, or throws an error naming
 * the Debian package that provides it.
 */
export function findEmulatorJar(dir: string, pattern: RegExp, debianPackage: string): string {
  const looked: string[] = [];
  for (const root of sdkRoots()) {
    const folder = path.join(root, "platform", dir);
    looked.push(folder);
    if (!existsSync(folder)) continue;
    const jar = readdirSync(folder).find((f) => pattern.test(f));
    if (jar) return path.join(folder, jar);
  }
  throw new Error(
    `Emulator jar not found (looked for ${pattern} in ${looked.join(", ")}).\n` +
      `Install it with: sudo apt-get install ${debianPackage}\n` +
      `(from Google's apt repository https://packages.cloud.google.com/apt), or point ` +
      `INFINITY_TEST_CLOUDSDK_ROOT (or CLOUDSDK_ROOT_DIR) at an SDK that has it. Integration tests cannot run without it.`,
  );
}

let javaChecked: string | undefined;

/** The java command, checked once; JAVA_HOME wins like in the SDK's own wrapper scripts. */
export function javaCommand(): string {
  if (javaChecked) return javaChecked;
  const java = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, "bin", "java") : "java";
  const probe = spawnSync(java, ["-version"], { stdio: "ignore" });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `Java is needed for the Pub/Sub and Firestore emulators but "${java} -version" failed ` +
        `(${probe.error?.message ?? `exit ${probe.status}`}). Install a JRE >= 11, ` +
        `e.g. sudo apt-get install openjdk-17-jre-headless, or set JAVA_HOME.`,
    );
  }
  javaChecked = java;
  return java;
}

/**
 * JVM flags that cut startup time on a small machine: the emulators are short-lived, so C1 only
 * and the serial collector beat the server defaults. English messages as the SDK wrapper sets.
 */
export const FAST_START_JVM_FLAGS = [
  "-Duser.language=en",
  "-XX:+UseSerialGC",
  "-XX:TieredStopAtLevel=1",
  "-Xshare:auto",
];
