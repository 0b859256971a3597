// The per-repo lease of the Firestore index: one document per repo, taken and given back in
// transactions, expiring so that a crashed function does not block its repo forever.
import { Timestamp, type Firestore } from "@google-cloud/firestore";
import { UserInputError } from "../../core/errors.js";
import type { Clock, Lease } from "../../core/ports.js";
import { fromGrpc } from "./errors.js";
import type { FirestorePaths } from "./firestore-paths.js";

interface LeaseDoc {
  repo: string;
  holder: string;
  /** A Timestamp, so that a Firestore TTL policy on this field can sweep long-dead leases. */
  expiresAt: Timestamp;
}

/**
 * Takes the lease if it is free, expired or already `holder`'s. The read and the write are one
 * transaction, so of many concurrent takers exactly one sees the lease free and writes it; the
 * others are retried by Firestore, see it held, and take nothing.
 */
export async function acquireLease(
  db: Firestore,
  paths: FirestorePaths,
  clock: Clock,
  request: { repo: string; holder: string; ttlMs: number },
): Promise<Lease | undefined> {
  const { repo, holder, ttlMs } = request;
  if (!Number.isFinite(ttlMs) || ttlMs <= 0)
    throw new UserInputError(`lease ttl must be positive, got ${ttlMs}`);
  if (typeof holder !== "string" || holder === "") throw new UserInputError("a lease holder must be named");
  const ref = paths.lease(repo);
  try {
    return await db.runTransaction(
      async (tx) => {
        const current = await tx.get(ref);
        // Read inside the transaction: a retried attempt judges expiry by the time of its own read.
        const now = clock.now().getTime();
        const held = current.exists ? (current.data() as LeaseDoc) : undefined;
        // A lease is held up to, not including, its expiresAt.
        if (held !== undefined && held.holder !== holder && held.expiresAt.toMillis() > now) return undefined;
        const expiresAt = now + Math.ceil(ttlMs);
        const doc: LeaseDoc = { repo, holder, expiresAt: Timestamp.fromMillis(expiresAt) };
        tx.set(ref, doc);
        return { repo, holder, expiresAt: new Date(expiresAt).toISOString() };
      },
      // Many workers may race for one lease; each loser needs one more attempt to see the winner.
      { maxAttempts: 20 },
    );
  } catch (err) {
    throw fromGrpc(err, `could not take the lease of ${repo} for ${holder}`);
  }
}

/** Every lease not yet expired. */
export async function leasesInForce(db: Firestore, paths: FirestorePaths, clock: Clock): Promise<Lease[]> {
  try {
    const found = await paths.leases().get();
    const now = clock.now().getTime();
    return found.docs
      .map((d) => d.data() as LeaseDoc)
      .filter((l) => l.expiresAt.toMillis() > now)
      .map((l) => ({ repo: l.repo, holder: l.holder, expiresAt: l.expiresAt.toDate().toISOString() }))
      .sort((a, b) => a.repo.localeCompare(b.repo));
  } catch (err) {
    throw fromGrpc(err, "could not list the leases");
  }
}

/** Deletes the lease if `holder` has it; anyone else's lease (or none) is left as it is. */
export async function releaseLease(
  db: Firestore,
  paths: FirestorePaths,
  request: { repo: string; holder: string },
): Promise<void> {
  const { repo, holder } = request;
  const ref = paths.lease(repo);
  try {
    await db.runTransaction(async (tx) => {
      const current = await tx.get(ref);
      if (current.exists && (current.data() as LeaseDoc).holder === holder) tx.delete(ref);
    });
  } catch (err) {
    throw fromGrpc(err, `could not release the lease of ${repo} held by ${holder}`);
  }
}
