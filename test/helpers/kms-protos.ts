// The proto side of the KMS stand-in: loads KeyManagementService from the .proto files shipped in
// node_modules, and shapes the CryptoKey / CryptoKeyVersion messages it answers with.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

export type VersionState = "ENABLED" | "DISABLED" | "DESTROYED";
export interface Version {
  id: number;
  secret: Buffer;
  state: VersionState;
}

/** @google-cloud/kms ships the KMS protos; google-gax (its dependency) ships google/api and google/protobuf. */
function protoDirs(): string[] {
  const require = createRequire(import.meta.url);
  const up = (file: string, marker: string): string => {
    let dir = path.dirname(file);
    while (!existsSync(path.join(dir, marker)) && dir !== path.dirname(dir)) dir = path.dirname(dir);
    if (!existsSync(path.join(dir, marker))) throw new Error(`no ${marker} above ${file}`);
    return path.join(dir, marker);
  };
  const kmsMain = require.resolve("@google-cloud/kms");
  const gaxMain = createRequire(kmsMain).resolve("google-gax");
  return [up(kmsMain, "build/protos"), up(gaxMain, "build/protos")];
}

export async function loadKeyManagementService(): Promise<grpc.ServiceDefinition> {
  const def = await protoLoader.load("google/cloud/kms/v1/service.proto", {
    includeDirs: protoDirs(),
    longs: Number,
    enums: String,
    defaults: false, // keeps absent Int64Value wrappers undefined, so "was a CRC sent?" can be told
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    google: { cloud: { kms: { v1: { KeyManagementService: grpc.ServiceClientConstructor } } } };
  };
  return pkg.google.cloud.kms.v1.KeyManagementService.service;
}

export function versionResource(keyName: string, v: Version) {
  return {
    name: `${keyName}/cryptoKeyVersions/${v.id}`,
    state: v.state,
    protectionLevel: "SOFTWARE",
    algorithm: "GOOGLE_SYMMETRIC_ENCRYPTION",
  };
}

export function cryptoKeyResource(name: string, created: Date, primary: Version) {
  return {
    name,
    purpose: "ENCRYPT_DECRYPT",
    primary: versionResource(name, primary),
    createTime: { seconds: Math.floor(created.getTime() / 1000), nanos: 0 },
    versionTemplate: { protectionLevel: "SOFTWARE", algorithm: "GOOGLE_SYMMETRIC_ENCRYPTION" },
  };
}
