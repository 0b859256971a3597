// Which LFS objects a layer's pointers name that the source could not give. A layered snapshot's
// own archive and record say it too, but the record lists at most LFS_UNAVAILABLE_LISTED and goes
// when prune removes the snapshot, while the layer (and the pointers in it) stays for every later
// snapshot that shares it. So the layer record keeps them, and a merge or fold carries them on.
import type { Layer } from "../model.js";

/** `layer` with `oids` recorded as unavailable, but those it holds (`held`); unchanged when none is left. */
export function withUnavailableLfs(layer: Layer, oids: Iterable<string>, held: Iterable<string> = []): Layer {
  const holds = new Set(held);
  const unavailable = [...new Set(oids)].filter((oid) => !holds.has(oid)).sort();
  return unavailable.length ? { ...layer, lfsUnavailable: unavailable } : layer;
}

/** Every oid `layers` record as unavailable. */
export function unavailableLfsOf(layers: Iterable<Layer>): Set<string> {
  const oids = new Set<string>();
  for (const layer of layers) for (const oid of layer.lfsUnavailable ?? []) oids.add(oid);
  return oids;
}
