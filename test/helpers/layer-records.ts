// Layer and layered snapshot records for tests of the layer index and the rules in core/layers/.
import type { Layer, Snapshot } from "../../functions/core/model.js";
import { snapshot } from "../contract/snapshot-index.js";

/** A live level-0 layer record of acme/widget; `overrides` change any field. */
export function layerRecord(overrides: Partial<Layer> & { id: string }): Layer {
  const lineage = overrides.lineage ?? "acme/widget";
  const createdAt = overrides.createdAt ?? "2026-11-27T10:00:00.000Z";
  return {
    lineage,
    level: 0,
    objectKey: `repos/${lineage}/layers/${overrides.id}.ibk`,
    size: 4096,
    sha256: "1".repeat(64),
    oidsKey: `repos/${lineage}/layers/${overrides.id}.oids.ibk`,
    oidsSize: 512,
    oidsSha256: "2".repeat(64),
    objects: 12,
    packBytes: 3000,
    keyRef: "local:0123456789abcdef",
    createdAt,
    state: "live",
    stateAt: createdAt,
    ...overrides,
  };
}

/** A layered snapshot record of acme/widget naming `layers`. */
export function layeredSnapshot(id: string, layers: string[], overrides: Partial<Snapshot> = {}): Snapshot {
  return snapshot({ id, kind: "layered", layers, bundleBytes: 0, ...overrides });
}
