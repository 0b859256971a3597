// Google ID tokens (OIDC JWTs) checked before any claim is read: RS256 signature against the
// issuer's published keys (JWKS), issuer, audience, expiry. In production the keys are Google's;
// tests start their own issuer and pass its JWKS address through wiring.ts.
import { createPublicKey, verify as verifySignature, type JsonWebKey, type KeyObject } from "node:crypto";

/** Google's signing keys for ID tokens, and the two spellings of its issuer. */
export const GOOGLE_JWKS_URL = "https://www.googleapis.com/oauth2/v3/certs";
export const GOOGLE_ISSUERS = ["https://accounts.google.com", "accounts.google.com"] as const;

/**
 * What Cloud Run puts in place of the signature of a token its IAM check already verified
 * (https://cloud.google.com/run/docs/troubleshooting#signature-removed).
 */
export const PLATFORM_REMOVED_SIGNATURE = "SIGNATURE_REMOVED_BY_GOOGLE";

/** Seconds of clock difference tolerated on exp, iat and nbf. */
const CLOCK_SKEW_SECONDS = 60;
/** A token older than this since its issue time is refused whatever its exp says. */
const MAX_LIFETIME_SECONDS = 24 * 3600;
/** Keys are fetched again at most this often when a token names an unknown key id. */
const REFETCH_AFTER_MS = 60_000;

/** A token that is missing, malformed, badly signed, expired, or for someone else: HTTP 401. */
export class IdTokenError extends Error {
  readonly status = 401;
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "IdTokenError";
  }
}

/** The claims this product reads, once the token is proven. */
export interface IdTokenClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  email?: string;
  email_verified?: boolean;
}

export interface IdTokenVerifierOptions {
  /** Where the issuer publishes its keys (Google's: GOOGLE_JWKS_URL). */
  jwksUrl: string;
  /** Accepted `iss` values. */
  issuers: readonly string[];
  /**
   * Accepted `aud` values of a signed token: the function's own URLs. A token minted for another
   * service is refused. (A token Cloud Run verified had its audience checked there: Cloud Run also
   * takes a person's gcloud token, whose audience is gcloud's own client.)
   */
  audiences: readonly string[];
  /**
   * Accept a token whose signature Cloud Run replaced with PLATFORM_REMOVED_SIGNATURE: Cloud Run's
   * IAM layer verified signature, audience and expiry before the request reached us. Only for a
   * service nobody can call without that check (no allUsers invoker; infra/iam.tf, and a Terraform
   * test, make sure of it). Off by default; the other claims are still checked.
   */
  acceptPlatformVerified?: boolean;
  /** For tests; default the global fetch. */
  fetch?: typeof fetch;
}

/** Verifies ID tokens against one issuer's keys, cached by the issuer's Cache-Control max-age. */
export class IdTokenVerifier {
  private keys = new Map<string, KeyObject>();
  private fetchedAt = -Infinity;
  private expiresAt = -Infinity;
  private pending: Promise<void> | undefined;

  constructor(private readonly options: IdTokenVerifierOptions) {
    if (!options.audiences.length) throw new Error("IdTokenVerifier needs at least one audience");
  }

  /** The token's claims, or IdTokenError saying what is wrong (never echoing the token). */
  async verify(token: string, now: Date): Promise<IdTokenClaims> {
    const parts = token.split(".");
    if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p)) || !parts[0] || !parts[1])
      throw new IdTokenError("the bearer token is not a JWT (three base64url parts)");
    const header = decodePart(parts[0], "header") as { alg?: unknown; kid?: unknown };
    const claims = decodePart(parts[1], "payload") as Record<string, unknown>;
    const platformVerified = parts[2] === PLATFORM_REMOVED_SIGNATURE;
    if (platformVerified) {
      if (!this.options.acceptPlatformVerified)
        throw new IdTokenError(
          "the token's signature was removed, and this service checks signatures itself",
        );
    } else {
      if (header.alg !== "RS256")
        throw new IdTokenError(`token algorithm ${String(header.alg)} is not RS256`);
      if (typeof header.kid !== "string") throw new IdTokenError("the token names no signing key (kid)");
      const key = await this.key(header.kid, now);
      const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
      if (!verifySignature("RSA-SHA256", signed, key, Buffer.from(parts[2]!, "base64url")))
        throw new IdTokenError("the token's signature does not verify");
    }
    return this.checkClaims(claims, now, !platformVerified);
  }

  private checkClaims(claims: Record<string, unknown>, now: Date, checkAudience: boolean): IdTokenClaims {
    const t = Math.floor(now.getTime() / 1000);
    const { iss, sub, aud, exp, iat, nbf, email, email_verified } = claims;
    if (typeof iss !== "string" || !this.options.issuers.includes(iss))
      throw new IdTokenError(`token issuer ${JSON.stringify(iss)} is not accepted`);
    const audiences = Array.isArray(aud) ? aud : [aud];
    if (checkAudience && !audiences.some((a) => typeof a === "string" && this.options.audiences.includes(a)))
      throw new IdTokenError(`token audience ${JSON.stringify(aud)} is not this service`);
    if (typeof exp !== "number") throw new IdTokenError("token has no expiry (exp)");
    if (exp + CLOCK_SKEW_SECONDS < t) throw new IdTokenError("token expired");
    if (typeof iat === "number" && (iat - CLOCK_SKEW_SECONDS > t || t - iat > MAX_LIFETIME_SECONDS))
      throw new IdTokenError("token issue time (iat) is in the future or too long ago");
    if (typeof nbf === "number" && nbf - CLOCK_SKEW_SECONDS > t)
      throw new IdTokenError("token not yet valid");
    if (typeof sub !== "string" || !sub) throw new IdTokenError("token has no subject (sub)");
    const out: IdTokenClaims = { iss, sub, aud: audiences.find((a) => typeof a === "string") as string, exp };
    if (typeof email === "string") out.email = email;
    // Google sends a boolean; some issuers a string.
    if (email_verified !== undefined)
      out.email_verified = email_verified === true || email_verified === "true";
    return out;
  }

  /** The key of `kid`, fetching the key set when it is stale or does not know `kid` (rate-limited). */
  private async key(kid: string, now: Date): Promise<KeyObject> {
    const ms = now.getTime();
    if (ms >= this.expiresAt || (!this.keys.has(kid) && ms - this.fetchedAt >= REFETCH_AFTER_MS)) {
      this.pending ??= this.fetchKeys(ms).finally(() => (this.pending = undefined));
      await this.pending;
    }
    const key = this.keys.get(kid);
    if (!key) throw new IdTokenError(`the token's signing key ${JSON.stringify(kid)} is not the issuer's`);
    return key;
  }

  private async fetchKeys(ms: number): Promise<void> {
    const fetchFn = this.options.fetch ?? fetch;
    let res: Response;
    try {
      res = await fetchFn(this.options.jwksUrl, { headers: { accept: "application/json" } });
    } catch (err) {
      throw new Error(`could not fetch the ID token signing keys from ${this.options.jwksUrl}`, {
        cause: err,
      });
    }
    if (!res.ok)
      throw new Error(`the ID token signing keys at ${this.options.jwksUrl} answered ${res.status}`);
    const body = (await res.json()) as { keys?: unknown };
    if (!Array.isArray(body.keys)) throw new Error(`${this.options.jwksUrl} is not a JWKS (no keys array)`);
    const keys = new Map<string, KeyObject>();
    for (const jwk of body.keys as (JsonWebKey & { kid?: string; use?: string })[]) {
      if (jwk.kty !== "RSA" || typeof jwk.kid !== "string" || (jwk.use && jwk.use !== "sig")) continue;
      keys.set(jwk.kid, createPublicKey({ key: jwk, format: "jwk" }));
    }
    this.keys = keys;
    this.fetchedAt = ms;
    const maxAge = /max-age=(\d+)/.exec(res.headers.get("cache-control") ?? "")?.[1];
    this.expiresAt = ms + (maxAge ? Number(maxAge) * 1000 : 3600_000);
  }
}

function decodePart(part: string, what: string): unknown {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    if (value && typeof value === "object" && !Array.isArray(value)) return value;
  } catch {
    // fall through to the one message
  }
  throw new IdTokenError(`the token's ${what} is not a JSON object`);
}

/** The bearer token of an Authorization header value, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return m?.[1];
}
