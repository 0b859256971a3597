// The one scrubber (core/redact.ts): every credential form we know of is masked in free text, text
// without credentials is left as it is, and URLs holding credentials are named by their form.
import { describe, expect, it } from "vitest";
import {
  credentialForm,
  credentialRefusal,
  scrub,
  scrubDeep,
  scrubbingAudit,
} from "../../functions/core/redact.js";
import type { AuditEvent } from "../../functions/core/ports.js";
import { describeError } from "../../functions/core/errors.js";
import { redact } from "../../functions/log.js";

const TOKEN = "ghs_16C7e42F292c6912E7710c838347Ae178B4a";
const PAT = "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ";
const KEY = [
  "-----BEGIN RSA PRIVATE KEY-----",
  "MIIEowIBAAKCAQEAr0rB2xk9mUGy6s0uYjP1Hh9c0l7KQ8V0Zl2a5Jx2ZzqkM0cv",
  "1kQ8b2e1m9QxY3h8bC0b6B1o2pJ8k3Zb6m1x0Z7d4c3r2s1t0u9v8w7x6y5z4a3b",
  "-----END RSA PRIVATE KEY-----",
].join("\n");
const JWT = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxMjM0NSIsImV4cCI6MTcwMDAwMDAwMH0.c2lnbmF0dXJlLXZhbHVlLWhlcmU";

describe("scrub", () => {
  it.each([
    [
      "https URL with x-access-token",
      `fatal: https://x-access-token:${TOKEN}@github.com/acme/app.git`,
      `fatal: https://***@github.com/acme/app.git`,
    ],
    [
      "https URL with a bare token",
      `https://${TOKEN}@github.com/acme/app`,
      `https://***@github.com/acme/app`,
    ],
    [
      "user:password",
      "git push https://alice:hunter2@git.example.com/r.git",
      "git push https://***@git.example.com/r.git",
    ],
    ["backslash form", "remote https:\\\\alice:hunter2@host\\repo", "remote https:\\\\***@host\\repo"],
    [
      "scp form with a password",
      "cloning alice:hunter2@example.com:acme/app.git",
      "cloning ***@example.com:acme/app.git",
    ],
    [
      "query token",
      "GET https://h/x?ref=main&access_token=abc123def&x=1",
      "GET https://h/x?ref=main&access_token=***&x=1",
    ],
    ["ghp token in prose", `token ghp_${"a".repeat(36)} expired`, "token *** expired"],
    ["fine-grained PAT", `bad credentials: ${PAT}`, "bad credentials: ***"],
    ["Authorization header", `Authorization: Bearer ${TOKEN}`, "Authorization: Bearer ***"],
    [
      "git extraheader",
      "-c http.extraheader=AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46Z2hzX3h4eA==",
      "-c http.extraheader=AUTHORIZATION: basic ***",
    ],
    ["Bearer alone", "sent Bearer abcdefghijklmnopqrstuvwxyz012345", "sent Bearer ***"],
    ["a JWT", `app token ${JWT} rejected`, "app token *** rejected"],
    ["a private key block", `key:\n${KEY}\nend`, "key:\n***PRIVATE KEY***\nend"],
  ])("%s", (_name, input, expected) => {
    expect(scrub(input)).toBe(expected);
    expect(scrub(expected)).toBe(expected); // idempotent
  });

  it.each([
    "git@github.com:acme/app.git",
    "ssh://git@github.com/acme/app.git",
    "https://github.com/acme/app.git",
    "snapshot acme/app 20261127T000000000Z-0000000a: 12 refs, 3.4 MB at 10:15:00",
    "refs/heads/feature:with-colon",
  ])("leaves %s as it is", (text) => {
    expect(scrub(text)).toBe(text);
  });

  it("is the scrubber of log lines and of error messages", () => {
    expect(redact(`https://x-access-token:${TOKEN}@github.com/a/b`)).toBe("https://***@github.com/a/b");
    expect(describeError(new Error(`fetch https://u:${TOKEN}@h/r failed`))).toBe(
      "fetch https://***@h/r failed",
    );
    expect(describeError(`Authorization: token ${TOKEN}`)).not.toContain(TOKEN);
  });

  it("scrubs every string of an audit entry before it is stored", async () => {
    const stored: AuditEvent[] = [];
    const audit = scrubbingAudit({ record: async (e) => void stored.push(e) });
    const event = {
      action: "restore",
      outcome: "failure",
      repo: "acme/app",
      actor: "cli:alice",
      detail: { target: `https://alice:${TOKEN}@h/r.git`, notes: [`key ${KEY}`], count: 3 },
    } as unknown as AuditEvent;
    await audit.record(event);
    expect(JSON.stringify(stored)).not.toContain(TOKEN);
    expect(JSON.stringify(stored)).not.toContain("MIIEow");
    expect(stored[0]).toMatchObject({
      repo: "acme/app",
      detail: { count: 3, target: "https://***@h/r.git" },
    });
    expect(scrubDeep(new Date(0))).toEqual(new Date(0));
  });
});

describe("credentialForm", () => {
  it.each([
    ["https://alice:hunter2@github.com/acme/app", "user:password@ in the URL"],
    [`https://${TOKEN}@github.com/acme/app`, "a user name or token before @ (https://token@host)"],
    ["https://github.com/acme/app?access_token=abc", "a credential in the query string (?access_token=…)"],
    ["alice:hunter2@example.com:acme/app.git", "user:password@host: (scp form)"],
    ["https:\\\\alice@github.com\\acme\\app", "user info after a backslash (scheme:\\\\user@host)"],
    [`https://github.com/${TOKEN}/app`, "a GitHub token"],
  ])("names the form in %s", (url, form) => {
    expect(credentialForm(url)).toBe(form);
    expect(credentialRefusal("--push", url)).toMatch(
      /^--push: remote URLs must not hold credentials \(found /,
    );
    expect(credentialRefusal("--push", url)).not.toContain("hunter2");
  });

  it.each([
    "https://github.com/acme/app.git",
    "git@github.com:acme/app.git",
    "ssh://git@github.com/acme/app.git",
    "/srv/git/app.git",
    "file:///srv/git/app.git",
  ])("accepts %s", (url) => {
    expect(credentialForm(url)).toBeUndefined();
  });
});
