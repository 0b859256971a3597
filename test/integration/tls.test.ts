// In transit: every outbound connection requires TLS 1.3 unless the configuration allows
// TLSv1.2 (an older GitHub Enterprise Server). A backup of a source served over TLS 1.2 only is
// refused with a message that says why and what to change; allowed, the same handshake succeeds
// (and the next check, the server's certificate, is what fails here).
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../helpers/cli-run.js";

let dir: string;
let server: https.Server;
let url: string;
const handshakes: string[] = [];
const defaultMin = tls.DEFAULT_MIN_VERSION;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "infinity-tls-"));
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
    ],
    { stdio: "ignore" },
  );
  server = https.createServer(
    {
      key: await readFile(join(dir, "key.pem")),
      cert: await readFile(join(dir, "cert.pem")),
      maxVersion: "TLSv1.2",
    },
    (_req, res) => res.end(),
  );
  server.on("secureConnection", (socket) => handshakes.push(socket.getProtocol() ?? "?"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/acme/old.git`;
});

afterAll(async () => {
  (tls as { DEFAULT_MIN_VERSION: string }).DEFAULT_MIN_VERSION = defaultMin;
  server?.close();
  await rm(dir, { recursive: true, force: true });
});

async function config(network: string): Promise<string> {
  const file = join(dir, `backup-config-${handshakes.length}-${Date.now()}.yaml`);
  await writeFile(
    file,
    `version: 1\nbackend: local\nlocal:\n  dataDir: data-${Date.now()}\nsources:\n  - name: acme/old\n    url: ${url}\n${network}`,
  );
  return file;
}

describe("TLS in transit", () => {
  it("refuses a server that offers only TLS 1.2, and says what to change", async () => {
    const { code, stdout, stderr } = await cli("backup", "--config", await config(""), "--no-verify");
    expect(code).toBe(1);
    expect(tls.DEFAULT_MIN_VERSION).toBe("TLSv1.3");
    const said = stdout + stderr;
    expect(said).toMatch(/ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION/);
    expect(said).toMatch(/network\.minTlsVersion: TLSv1\.2/);
    expect(handshakes).toEqual([]);
  });

  it("with network.minTlsVersion: TLSv1.2 the handshake succeeds (the self-signed certificate is what fails next)", async () => {
    const { code, stdout, stderr } = await cli(
      "backup",
      "--config",
      await config("network:\n  minTlsVersion: TLSv1.2\n"),
      "--no-verify",
    );
    expect(code).toBe(1);
    expect(tls.DEFAULT_MIN_VERSION).toBe("TLSv1.2");
    const said = stdout + stderr;
    expect(said).not.toMatch(/PROTOCOL_VERSION|minTlsVersion/);
    expect(said).toMatch(/self[- ]signed certificate/i);
  });

  it("names a version the setting does not know", async () => {
    const { code, stderr } = await cli(
      "backup",
      "--config",
      await config("network:\n  minTlsVersion: TLSv1.1\n"),
    );
    expect(code).toBe(2);
    expect(stderr).toMatch(/network\.minTlsVersion/);
  });
});
