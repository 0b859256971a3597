// The LFS pointer parser, against the spec's rules: what is a pointer, and what only looks like one.
import { describe, expect, it } from "vitest";
import { formatLfsPointer, parseLfsPointer } from "../../../functions/core/lfs/pointer.js";

const OID = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393";
const V1 = "version https://git-lfs.github.com/spec/v1\n";
const pointer = (body: string) => Buffer.from(body, "utf8");
/** A valid pointer of exactly `bytes` bytes: an extension line takes up the room. */
const padded = (bytes: number) => {
  const rest = `oid sha256:${OID}\nsize 12\n`;
  const fill = bytes - V1.length - rest.length - "ext-0-pad \n".length;
  return `${V1}ext-0-pad ${"x".repeat(fill)}\n${rest}`;
};

describe("parseLfsPointer", () => {
  const valid: [string, string, { oid: string; size: number }][] = [
    ["the spec's example", `${V1}oid sha256:${OID}\nsize 12345\n`, { oid: OID, size: 12345 }],
    ["an empty object", `${V1}oid sha256:${OID}\nsize 0\n`, { oid: OID, size: 0 }],
    [
      "the pre-1.0 version URL",
      `version https://hawser.github.com/spec/v1\noid sha256:${OID}\nsize 7\n`,
      { oid: OID, size: 7 },
    ],
    [
      "extension lines before oid",
      `${V1}ext-0-foo sha256:${"a".repeat(64)}\noid sha256:${OID}\nsize 9\n`,
      { oid: OID, size: 9 },
    ],
    ["a size beyond 4 GiB", `${V1}oid sha256:${OID}\nsize 5368709120\n`, { oid: OID, size: 5368709120 }],
  ];
  it.each(valid)("reads %s", (_name, text, expected) => {
    expect(parseLfsPointer(pointer(text))).toEqual(expected);
  });

  const invalid: [string, string][] = [
    ["an empty blob", ""],
    ["no final newline", `${V1}oid sha256:${OID}\nsize 12`],
    ["version not first", `oid sha256:${OID}\n${V1}size 12\n`],
    ["keys out of order", `${V1}size 12\noid sha256:${OID}\n`],
    ["a repeated key", `${V1}oid sha256:${OID}\noid sha256:${OID}\nsize 12\n`],
    ["an unknown version", `version https://example.com/spec/v9\noid sha256:${OID}\nsize 12\n`],
    ["a sha1 oid", `${V1}oid sha1:${"a".repeat(40)}\nsize 12\n`],
    ["an uppercase oid", `${V1}oid sha256:${OID.toUpperCase()}\nsize 12\n`],
    ["a short oid", `${V1}oid sha256:${OID.slice(1)}\nsize 12\n`],
    ["a negative size", `${V1}oid sha256:${OID}\nsize -1\n`],
    ["a size with a leading zero", `${V1}oid sha256:${OID}\nsize 012\n`],
    ["no size", `${V1}oid sha256:${OID}\n`],
    ["CRLF lines", `${V1.replace("\n", "\r\n")}oid sha256:${OID}\r\nsize 12\r\n`],
    ["a key with capitals", `${V1}Oid sha256:${OID}\nsize 12\n`],
    ["an ordinary text file", "hello world\n"],
    ["a pointer of 1024 bytes (git-lfs reads only smaller blobs)", padded(1024)],
  ];
  it.each(invalid)("refuses %s", (_name, text) => {
    expect(parseLfsPointer(pointer(text))).toBeUndefined();
  });

  it("refuses bytes that are not UTF-8", () => {
    const bytes = Buffer.concat([pointer(`${V1}oid sha256:${OID}\nsize 12\n`), Buffer.from([0xff, 0x0a])]);
    expect(parseLfsPointer(bytes)).toBeUndefined();
  });

  it("reads a pointer of 1023 bytes", () => {
    expect(padded(1023)).toHaveLength(1023);
    expect(padded(1024)).toHaveLength(1024);
    expect(parseLfsPointer(pointer(padded(1023)))).toEqual({ oid: OID, size: 12 });
  });

  it("reads back what formatLfsPointer writes", () => {
    expect(parseLfsPointer(pointer(formatLfsPointer({ oid: OID, size: 42 })))).toEqual({
      oid: OID,
      size: 42,
    });
  });
});
