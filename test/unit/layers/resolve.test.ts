// Resolve: a snapshot's live layers through replacedBy, and a corrupt index named, not guessed at.
import { describe, expect, it } from "vitest";
import { ArchiveCorruptError } from "../../../functions/core/errors.js";
import { layerResolver, resolveLayers } from "../../../functions/core/layers/resolve.js";
import type { Layer } from "../../../functions/core/model.js";
import { layeredSnapshot, layerRecord } from "../../helpers/layer-records.js";

const retired = (id: string, replacedBy: string[]): Layer =>
  layerRecord({ id, state: "retired", replacedBy, stateAt: "2026-11-28T00:00:00.000Z" });

function ids(layers: Layer[]): string[] {
  return layers.map((layer) => layer.id);
}

describe("resolveLayers", () => {
  it("returns a snapshot's live layers as they are, in its order", () => {
    const layers = [layerRecord({ id: "L1" }), layerRecord({ id: "L2" }), layerRecord({ id: "L3" })];
    expect(ids(resolveLayers(layeredSnapshot("S1", ["L3", "L1"]), layers))).toEqual(["L3", "L1"]);
  });

  it("follows replacedBy transitively and names each live layer once", () => {
    // L1, L2 merged into M1; M1 and L3 merged into M2; L4 still live; M2 also reached directly.
    const layers = [
      retired("L1", ["M1"]),
      retired("L2", ["M1"]),
      retired("M1", ["M2"]),
      retired("L3", ["M2"]),
      layerRecord({ id: "M2", level: 1 }),
      layerRecord({ id: "L4" }),
    ];
    const snap = layeredSnapshot("S1", ["L4", "L1", "L2", "L3", "M2"]);
    expect(ids(resolveLayers(snap, layers))).toEqual(["L4", "M2"]);
  });

  it("follows a retired layer split into several (a rewrite by temperature)", () => {
    const layers = [retired("L1", ["A", "B"]), layerRecord({ id: "A" }), layerRecord({ id: "B" })];
    expect(ids(resolveLayers(layeredSnapshot("S1", ["L1"]), layers))).toEqual(["A", "B"]);
  });

  it("resolves a snapshot with no objects (an empty repository) to no layers", () => {
    expect(resolveLayers(layeredSnapshot("S1", []), [])).toEqual([]);
  });

  it("gives a chain snapshot (full, incremental) no layers", () => {
    const snap = layeredSnapshot("S1", [], { kind: "full", layers: undefined });
    expect(resolveLayers(snap, [layerRecord({ id: "L1" })])).toEqual([]);
  });

  const broken: Array<{ name: string; layers: Layer[]; names: string[]; message: RegExp }> = [
    {
      name: "a layer the index does not hold",
      layers: [layerRecord({ id: "L1" })],
      names: ["L1", "L9"],
      message: /snapshot S1 of acme\/widget: layer L9 is not in the index$/,
    },
    {
      name: "a replacement the index does not hold",
      layers: [retired("L1", ["M1"])],
      names: ["L1"],
      message: /layer M1 is not in the index \(reached through L1\)/,
    },
    {
      name: "a dead layer",
      layers: [layerRecord({ id: "L1", state: "dead" })],
      names: ["L1"],
      message: /snapshot S1 of acme\/widget: layer L1 is dead/,
    },
    {
      name: "a dead replacement",
      layers: [retired("L1", ["M1"]), layerRecord({ id: "M1", state: "dead" })],
      names: ["L1"],
      message: /layer M1 is dead \(reached through L1\)/,
    },
    {
      name: "a retired layer with no replacement",
      layers: [layerRecord({ id: "L1", state: "retired" })],
      names: ["L1"],
      message: /layer L1 is retired and names no replacement/,
    },
    {
      name: "a cycle of replacements",
      layers: [retired("L1", ["M1"]), retired("M1", ["M2"]), retired("M2", ["M1"])],
      names: ["L1"],
      message: /layer M1 is replaced by itself: replacedBy cycle L1 -> M1 -> M2 -> M1/,
    },
    {
      name: "a live layer whose archives are deleted",
      layers: [layerRecord({ id: "L1", objectDeleted: true })],
      names: ["L1"],
      message: /layer L1 is live but its archives are deleted/,
    },
  ];
  for (const { name, layers, names, message } of broken) {
    it(`refuses ${name} with ArchiveCorruptError naming the snapshot and the layer`, () => {
      const resolve = (): Layer[] => resolveLayers(layeredSnapshot("S1", names), layers);
      expect(resolve).toThrow(ArchiveCorruptError);
      expect(resolve).toThrow(message);
    });
  }

  it("refuses a layered snapshot whose record names no layers", () => {
    const snap = layeredSnapshot("S1", [], { layers: undefined });
    expect(() => resolveLayers(snap, [])).toThrow(
      /snapshot S1 of acme\/widget is layered but its record names no layers/,
    );
  });

  it("names the right snapshot when one resolver serves many, after a shared part was settled", () => {
    const resolver = layerResolver([retired("L1", ["M1"]), layerRecord({ id: "M1" }), retired("L2", [])]);
    expect(ids(resolver.resolve(layeredSnapshot("S1", ["L1"])))).toEqual(["M1"]);
    expect(ids(resolver.resolve(layeredSnapshot("S2", ["L1"])))).toEqual(["M1"]);
    expect(() => resolver.resolve(layeredSnapshot("S3", ["L1", "L2"]))).toThrow(
      /snapshot S3 of acme\/widget: layer L2/,
    );
  });
});
