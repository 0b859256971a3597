// The GitHub App's RSA key pair the tests sign installation tokens with (the stand-in checks the
// JWTs against the public half). Made once per test process: a 2048-bit key takes a moment.
import { generateKeyPairSync } from "node:crypto";

export interface AppKeys {
  /** SPKI PEM, for the stand-in. */
  publicKey: string;
  /** PKCS#1 PEM, as GitHub hands an App's private key. */
  privateKey: string;
}

let made: AppKeys | undefined;

export function appKeys(): AppKeys {
  made ??= generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
  });
  return made;
}
