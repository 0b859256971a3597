// The caller check: ID tokens verified against a local issuer's JWKS over real HTTP, the role
// membership rule, and requireRole's 401/403 with an audit entry for every refusal.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloudIdentityGroups } from "../../functions/adapters/gcp/cloud-identity-groups.js";
import type { AuditEvent } from "../../functions/core/ports.js";
import { holdsRole, parseRoleMembers, type GroupDirectory } from "../../functions/core/roles.js";
import { Authorizer, ForbiddenError, requireRole } from "../../functions/handlers/authz.js";
import {
  IdTokenError,
  IdTokenVerifier,
  PLATFORM_REMOVED_SIGNATURE,
} from "../../functions/handlers/id-token.js";
import { startOidcIssuer, type OidcIssuer } from "../helpers/oidc-issuer.js";

const AUD = "https://restorerepo-123.europe-west1.run.app";
let issuer: OidcIssuer;
beforeAll(async () => {
  issuer = await startOidcIssuer();
});
afterAll(() => issuer.close());

const verifier = (extra: { acceptPlatformVerified?: boolean } = {}) =>
  new IdTokenVerifier({ jwksUrl: issuer.jwksUrl, issuers: [issuer.issuer], audiences: [AUD], ...extra });
const request = (headers: Record<string, string>) => ({
  get: (name: string) => headers[name.toLowerCase()],
});
const bearer = (token: string) => request({ authorization: `Bearer ${token}` });
const now = () => new Date();
const claims = (email: string, more: Record<string, unknown> = {}) => ({
  sub: `sub-${email}`,
  aud: AUD,
  email,
  email_verified: true,
  ...more,
});

describe("IdTokenVerifier", () => {
  it("accepts a token the issuer signed, for this audience, and gives its claims", async () => {
    const got = await verifier().verify(issuer.token(claims("ana@example.com")), now());
    expect(got).toMatchObject({
      iss: issuer.issuer,
      aud: AUD,
      email: "ana@example.com",
      email_verified: true,
    });
  });

  const refused: [string, () => string, RegExp][] = [
    [
      "a key the issuer never published",
      () => issuer.token(claims("a@x.com"), { key: "foreign" }),
      /signature/,
    ],
    ["an unknown key id", () => issuer.token(claims("a@x.com"), { kid: "nope" }), /signing key "nope"/],
    ["another audience", () => issuer.token(claims("a@x.com", { aud: "https://other.run.app" })), /audience/],
    ["another issuer", () => issuer.token(claims("a@x.com", { iss: "https://evil.test" })), /issuer/],
    [
      "an expired token",
      () => issuer.token(claims("a@x.com", { exp: Math.floor(Date.now() / 1000) - 600 })),
      /expired/,
    ],
    ["no expiry", () => issuer.token(claims("a@x.com", { exp: "never" })), /no expiry/],
    [
      "a token issued in the future",
      () => issuer.token(claims("a@x.com", { iat: Math.floor(Date.now() / 1000) + 3600 })),
      /iat/,
    ],
    [
      "alg none",
      () => {
        const [, body] = issuer.token(claims("a@x.com")).split(".");
        return `${Buffer.from('{"alg":"none","kid":"k1"}').toString("base64url")}.${body}.`;
      },
      /not RS256/,
    ],
    [
      "a payload changed after signing",
      () => {
        const [h, , s] = issuer.token(claims("a@x.com")).split(".");
        return `${h}.${Buffer.from(JSON.stringify(claims("admin@x.com"))).toString("base64url")}.${s}`;
      },
      /signature does not verify/,
    ],
    ["not a JWT", () => "abc.def", /not a JWT/],
    [
      "a stripped signature where signatures are checked here",
      () => stripped(claims("a@x.com")),
      /signature was removed/,
    ],
  ];
  it.each(refused)("refuses %s with a 401 IdTokenError", async (_name, make, why) => {
    const err = await verifier()
      .verify(make(), now())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdTokenError);
    expect((err as IdTokenError).status).toBe(401);
    expect((err as Error).message).toMatch(why);
  });

  it("accepts a token Cloud Run verified (signature stripped) only when told to, still checking issuer and expiry", async () => {
    const v = verifier({ acceptPlatformVerified: true });
    expect((await v.verify(stripped(claims("ana@example.com")), now())).email).toBe("ana@example.com");
    // Its audience was Cloud Run's to check (a person's gcloud token has gcloud's own audience).
    const gcloud = claims("ana@example.com", { aud: "32555940559.apps.googleusercontent.com" });
    expect((await v.verify(stripped(gcloud), now())).email).toBe("ana@example.com");
    await expect(v.verify(stripped(claims("a@x.com", { iss: "https://evil.test" })), now())).rejects.toThrow(
      /issuer/,
    );
    await expect(
      v.verify(stripped(claims("a@x.com", { exp: Math.floor(Date.now() / 1000) - 600 })), now()),
    ).rejects.toThrow(/expired/);
  });

  it("fetches the keys once, and again when a token names a rotated key", async () => {
    const v = verifier();
    const before = issuer.fetches;
    await v.verify(issuer.token(claims("a@x.com")), now());
    await v.verify(issuer.token(claims("b@x.com")), now());
    expect(issuer.fetches - before).toBe(1);
    issuer.rotate();
    // Within a minute of the last fetch an unknown key id is refused without asking again (a flood
    // of made-up key ids cannot make us hammer the issuer); after it, the new key is fetched.
    await expect(v.verify(issuer.token(claims("c@x.com")), now())).rejects.toThrow(/signing key "k\d+"/);
    expect(issuer.fetches - before).toBe(1);
    const later = new Date(Date.now() + 61_000);
    expect((await v.verify(issuer.token(claims("c@x.com")), later)).email).toBe("c@x.com");
    expect(issuer.fetches - before).toBe(2);
  });
});

function stripped(body: Record<string, unknown>): string {
  const [h, b] = issuer.token(body).split(".");
  return `${h}.${b}.${PLATFORM_REMOVED_SIGNATURE}`;
}

describe("role membership", () => {
  const members = parseRoleMembers({
    operator: "user:op@example.com",
    restorer: "group:restorers@example.com, serviceAccount:ci@p.iam.gserviceaccount.com",
    auditor: "domain:audit.example.com",
    admin: "",
  });
  const directory: GroupDirectory & { asked: string[] } = {
    asked: [],
    async isMember(group, email) {
      this.asked.push(`${group} ${email}`);
      return group === "restorers@example.com" && email === "rita@example.com";
    },
  };

  it.each([
    ["operator", "op@example.com", true],
    ["operator", "OP@Example.com", true],
    ["operator", "rita@example.com", false],
    ["restorer", "rita@example.com", true],
    ["restorer", "ci@p.iam.gserviceaccount.com", true],
    ["restorer", "op@example.com", false],
    ["auditor", "eve@audit.example.com", true],
    ["auditor", "eve@notaudit.example.com", false],
    ["auditor", "eve@example.com", false],
    ["admin", "op@example.com", false],
  ] as const)("%s holds %s: %s", async (role, email, expected) => {
    expect(await holdsRole(members, role, email, directory)).toBe(expected);
  });

  it("refuses member strings IAM would not bind, allUsers among them", () => {
    expect(() => parseRoleMembers({ operator: "allUsers", restorer: "", auditor: "", admin: "" })).toThrow(
      /role operator: member "allUsers"/,
    );
    expect(() =>
      parseRoleMembers({ operator: "", restorer: "rita@example.com", auditor: "", admin: "" }),
    ).toThrow(/role restorer/);
  });

  it("a group without a directory to ask is an error, not a silent no", async () => {
    await expect(holdsRole(members, "restorer", "x@example.com", undefined)).rejects.toThrow(
      /no group directory/,
    );
  });
});

describe("requireRole", () => {
  const members = parseRoleMembers({
    operator: "user:op@example.com",
    restorer: "user:rita@example.com",
    auditor: "",
    admin: "group:admins@example.com",
  });
  const setup = (groups?: GroupDirectory) => {
    const entries: AuditEvent[] = [];
    const deps = {
      authorizer: new Authorizer({ verifier: verifier(), members, ...(groups ? { groups } : {}) }),
      audit: { record: async (e: AuditEvent) => void entries.push(e) },
      clock: { now },
    };
    return { deps, entries };
  };

  it("lets a member of the role through, with no refusal recorded", async () => {
    const { deps, entries } = setup();
    const caller = await requireRole(bearer(issuer.token(claims("rita@example.com"))), deps, "restorer", {
      operation: "restoreRepo",
      repo: "acme/app",
    });
    expect(caller).toEqual({ email: "rita@example.com", actor: "user:rita@example.com" });
    expect(entries).toEqual([]);
  });

  it("refuses a verified caller outside the role with 403, and records who, what and why", async () => {
    const { deps, entries } = setup();
    const err = await requireRole(bearer(issuer.token(claims("op@example.com"))), deps, "restorer", {
      operation: "restoreRepo",
      repo: "acme/app",
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForbiddenError);
    expect((err as ForbiddenError).status).toBe(403);
    expect(entries).toEqual([
      {
        action: "authz.denied",
        actor: "user:op@example.com",
        outcome: "failure",
        repo: "acme/app",
        details: {
          operation: "restoreRepo",
          role: "restorer",
          reason: expect.stringMatching(/not in the restorer role/),
        },
      },
    ]);
  });

  it("refuses a request without a token, or with a forged one, with 401 and an audit entry", async () => {
    const { deps, entries } = setup();
    const forged = issuer.token(claims("rita@example.com"), { key: "foreign" });
    for (const req of [request({}), bearer(forged)]) {
      const err = await requireRole(req, deps, "restorer", { operation: "restoreRepo" }).catch(
        (e: unknown) => e,
      );
      expect((err as IdTokenError).status).toBe(401);
    }
    expect(entries.map((e) => [e.actor, e.details?.reason])).toEqual([
      ["unauthenticated", expect.stringMatching(/no bearer token/)],
      ["unauthenticated", expect.stringMatching(/signature does not verify/)],
    ]);
    // The token itself never reaches the audit trail.
    expect(JSON.stringify(entries)).not.toContain(forged.split(".")[2]);
  });

  it("refuses an unverified email", async () => {
    const { deps } = setup();
    const token = issuer.token(claims("rita@example.com", { email_verified: false }));
    await expect(requireRole(bearer(token), deps, "restorer", { operation: "restoreRepo" })).rejects.toThrow(
      /not verified/,
    );
  });

  it("asks the group directory, and a directory that fails refuses with 503 (recorded), never lets in", async () => {
    const yes = setup({ isMember: async (g, e) => g === "admins@example.com" && e === "ada@example.com" });
    await expect(
      requireRole(bearer(issuer.token(claims("ada@example.com"))), yes.deps, "admin", {
        operation: "forgetRepo",
      }),
    ).resolves.toMatchObject({ email: "ada@example.com" });
    const down = setup({
      isMember: async () => {
        throw new Error("Cloud Identity answered 503");
      },
    });
    const err = await requireRole(bearer(issuer.token(claims("ada@example.com"))), down.deps, "admin", {
      operation: "forgetRepo",
    }).catch((e: unknown) => e);
    expect((err as { status: number }).status).toBe(503);
    expect(down.entries[0]).toMatchObject({ action: "authz.denied", actor: "user:ada@example.com" });
  });
});

describe("CloudIdentityGroups", () => {
  it("looks the group up and checks transitive membership with the metadata server's token, caching answers", async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.url} ${req.headers.authorization ?? req.headers["metadata-flavor"]}`);
      const url = new URL(req.url!, "http://x");
      const json = (o: unknown, status = 200) =>
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(o));
      if (url.pathname === "/token") return json({ access_token: "tok-1", expires_in: 3600 });
      if (req.headers.authorization !== "Bearer tok-1") return json({ error: { message: "no" } }, 401);
      if (url.pathname === "/v1/groups:lookup")
        return url.searchParams.get("groupKey.id") === "admins@example.com"
          ? json({ name: "groups/abc" })
          : json({ error: { message: "Not found" } }, 404);
      if (url.pathname === "/v1/groups/abc/memberships:checkTransitiveMembership")
        return json({
          hasMembership: url.searchParams.get("query") === "member_key_id == 'ada@example.com'",
        });
      json({}, 404);
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const groups = new CloudIdentityGroups({ apiUrl: `${base}/v1`, tokenUrl: `${base}/token` });
      expect(await groups.isMember("admins@example.com", "ada@example.com")).toBe(true);
      expect(await groups.isMember("admins@example.com", "bob@example.com")).toBe(false);
      expect(await groups.isMember("admins@example.com", "ada@example.com")).toBe(true); // cached
      expect(seen.filter((s) => s.startsWith("/token"))).toHaveLength(1);
      expect(seen.filter((s) => s.includes("checkTransitiveMembership"))).toHaveLength(2);
      expect(seen.filter((s) => s.includes("groups:lookup"))).toHaveLength(1);
      await expect(groups.isMember("nobody@example.com", "ada@example.com")).rejects.toThrow(
        /Cloud Identity answered 404: Not found/,
      );
    } finally {
      await new Promise<void>((done) => server.close(() => done()));
    }
  });
});
