// A deep verification restores the snapshot whole, which a function cannot do for a repository over
// cloud.largeRepoBytes (its scratch is memory, its time 540 s): verifySnapshot hands such a request
// to the Cloud Run job on snapshot-large, as restoreDrill hands over its large drills.
import type { Deps } from "../deps.js";
import { NotFoundError } from "../errors.js";
import { lineageKeyOf } from "../keys/repository-keys.js";
import type { LargeVerifyRequest, VerifyRequest } from "../messages.js";
import type { Snapshot } from "../model.js";
import type { Publisher } from "../ports.js";
import { resolveLayers } from "./resolve.js";

/** The bytes a whole restore of `snapshot` reads: its own archive and, when layered, its layers. */
export async function restoreBytes(
  deps: Pick<Deps, "index" | "layers">,
  snapshot: Snapshot,
): Promise<number> {
  if (snapshot.layers === undefined || !deps.layers) return snapshot.size;
  const layers = await deps.layers.layers(await lineageKeyOf(deps.index, snapshot.repo));
  return resolveLayers(snapshot, layers).reduce((sum, layer) => sum + layer.size, snapshot.size);
}

/**
 * Hands `request` to the job when it is a deep verification of a snapshot whose restore reads at
 * least `maxBytes`; resolves with those bytes then, or undefined when the caller verifies it itself.
 */
export async function handDeepVerifyToJob(
  deps: Pick<Deps, "index" | "layers" | "clock"> & { publisher: Publisher },
  request: VerifyRequest,
  maxBytes: number,
): Promise<number | undefined> {
  if (request.level !== "deep") return undefined;
  const snapshot = await deps.index.get(request.repo, request.snapshotId);
  if (!snapshot) throw new NotFoundError(`no snapshot ${request.snapshotId} of ${request.repo} in the index`);
  const bytes = await restoreBytes(deps, snapshot);
  if (bytes < maxBytes) return undefined;
  const handed: LargeVerifyRequest = {
    ...request,
    level: "deep",
    kind: "verify",
    requestedAt: deps.clock.now().toISOString(),
  };
  await deps.publisher.publish("snapshot-large", [handed]);
  return bytes;
}
