// databaseIdOf: REST's id read out of GitHub's GraphQL node ids, both encodings, and nothing made
// up from anything else.
import { describe, expect, it } from "vitest";
import { databaseIdOf } from "../../../functions/adapters/github/metadata-node-id.js";

describe("databaseIdOf", () => {
  it.each([
    // Ids GitHub serves, with the REST id of the same object.
    ["MDQ6VXNlcjE=", 1], // legacy "04:User1"
    ["MDEwOlJlcG9zaXRvcnkyMzI1Mjk4", 2325298], // legacy "010:Repository2325298"
    ["U_kgDOAAhEkg", 541842], // MessagePack [0, 541842]
    ["R_kgDOACN7Mg", 2325298], // MessagePack [0, 2325298]
    [Buffer.from("012:LabeledEvent9876543210").toString("base64"), 9876543210],
    // [0, repository 70000, event 5000000000] with a uint64
    [
      "LE_" +
        Buffer.from([0x93, 0x00, 0xce, 0, 1, 0x11, 0x70, 0xcf, 0, 0, 0, 1, 0x2a, 0x05, 0xf2, 0]).toString(
          "base64url",
        ),
      5_000_000_000,
    ],
  ])("reads %s as %d", (nodeId, id) => {
    expect(databaseIdOf(nodeId)).toBe(id);
  });

  it.each([
    ["x"],
    [""],
    ["I_kwDO"], // cut short: the array announces more than there is
    ["LE_" + Buffer.from([0x92, 0x00, 0xa3, 0x61, 0x62, 0x63]).toString("base64url")], // a string, not an id
    ["LE_" + Buffer.from([0x92, 0x00, 0x05, 0x07]).toString("base64url")], // trailing bytes
    ["LE_" + Buffer.from([0x91, 0x00]).toString("base64url")], // 0 is no id
    [Buffer.from("LabeledEvent123").toString("base64")], // no length prefix
  ])("gives undefined for %j", (nodeId) => {
    expect(databaseIdOf(nodeId)).toBeUndefined();
  });
});
