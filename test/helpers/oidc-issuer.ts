// A local OpenID issuer for tests: an RSA key pair, its JWKS served over real HTTP on 127.0.0.1,
// and ID tokens minted like Google's (RS256, kid, iss/aud/sub/email/exp). Pass `jwksUrl` and
// `issuer` to cloudApp's overrides.idTokens so the functions verify against it.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";

export interface OidcIssuer {
  issuer: string;
  jwksUrl: string;
  /** How many times the JWKS was fetched. */
  fetches: number;
  /** A signed ID token with these claims (iss, iat and exp filled in unless given). */
  token(claims: Record<string, unknown>, options?: { key?: "current" | "foreign"; kid?: string }): string;
  /** Replaces the signing key (the old one leaves the JWKS). */
  rotate(): void;
  close(): Promise<void>;
}

export async function startOidcIssuer(issuer = "https://issuer.test"): Promise<OidcIssuer> {
  let current = keyPair("k1");
  const foreign = keyPair("k1"); // signs under the current kid with a key the issuer never published
  let generation = 1;
  const state = { fetches: 0 };
  const server: Server = createServer((req, res) => {
    if (req.url !== "/certs") return void res.writeHead(404).end();
    state.fetches++;
    const jwk = current.publicKey.export({ format: "jwk" });
    res.writeHead(200, { "content-type": "application/json", "cache-control": "public, max-age=300" });
    res.end(JSON.stringify({ keys: [{ ...jwk, kid: current.kid, alg: "RS256", use: "sig" }] }));
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  return {
    issuer,
    jwksUrl: `http://127.0.0.1:${port}/certs`,
    get fetches() {
      return state.fetches;
    },
    token(claims, options = {}) {
      const pair = options.key === "foreign" ? foreign : current;
      const now = Math.floor(Date.now() / 1000);
      const header = { alg: "RS256", typ: "JWT", kid: options.kid ?? current.kid };
      const body = { iss: issuer, iat: now, exp: now + 3600, ...claims };
      const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
      const signed = `${part(header)}.${part(body)}`;
      return `${signed}.${sign("RSA-SHA256", Buffer.from(signed), pair.privateKey).toString("base64url")}`;
    },
    rotate() {
      current = keyPair(`k${++generation}`);
    },
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

function keyPair(kid: string): { kid: string; publicKey: KeyObject; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { kid, publicKey, privateKey };
}
