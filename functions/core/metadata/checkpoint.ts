// What a metadata collection hands to the next one of the same repository: conditional-request
// validators (ETags) and high-water marks. Plain JSON, meant to be kept with the committed snapshot.
import { z } from "zod";
import { METADATA_KINDS } from "./kinds.js";

/** A GET that answered 200 with this ETag; asked again with If-None-Match it answers 304 if unchanged. */
export const conditionalRequestSchema = z.strictObject({
  /** Path and query below the API root ("/repos/acme/app/labels?per_page=100"); never a credential. */
  path: z.string().startsWith("/"),
  etag: z.string().min(1),
});

export const kindCheckpointSchema = z.strictObject({
  /**
   * Every request whose answer made the kind's file (whole kinds), or the one newest-first page
   * that shows any change (delta kinds). All of them answering 304 means the kind is unchanged.
   */
  requests: z.array(conditionalRequestSchema),
  /**
   * Delta kinds: the newest `updated_at` (ISO-8601) seen when the kind was read, taken before
   * reading it; the next collection reads items updated at or after it.
   */
  mark: z.string().optional(),
  /**
   * Kinds read through GraphQL (discussions), which has no ETags: a SHA-256 of what the kind's
   * newest-first probe answered. The same fingerprint again means the kind is unchanged.
   */
  fingerprint: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});

/** The first 16 hex digits (64 bits) of a SHA-256: enough to tell apart a chain's attachments, and small. */
const shortHash = z.string().regex(/^[0-9a-f]{16}$/);

export const metadataCheckpointSchema = z.strictObject({
  v: z.literal(1),
  /** GitHub's id of the repository: a checkpoint of another repository (deleted, recreated) is ignored. */
  repoId: z.number().int(),
  /** Kinds collected (full or delta), unchanged or deferred; an unavailable kind has no entry. */
  kinds: z.partialRecord(z.enum(METADATA_KINDS), kindCheckpointSchema),
  /**
   * Release assets stored in the chain: asset id -> hex SHA-256 of its bytes. GitHub never changes
   * an asset's bytes under the same id (a re-upload is a new asset), so a listed id is not fetched again.
   */
  assets: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/)),
  /**
   * Attachments the chain holds, as short hashes to keep an index record small (about 40 bytes an
   * attachment; a collision among 100,000 is about a 1 in 3 billion chance): `urls` of every URL
   * handled (stored, missing or over the cap: not asked again), `blobs` of every content stored
   * under meta/attachments/ (not stored again); the most recent few thousand of each only, so a
   * record stays small. Absent in checkpoints older than attachments.
   */
  attachments: z.strictObject({ urls: z.array(shortHash), blobs: z.array(shortHash) }).optional(),
  /**
   * Kinds deferred for the rate budget (their entry, if any, is the one from before): the next
   * check reports a change once the budget allows, so that a later collection reads them.
   */
  deferred: z.array(z.enum(METADATA_KINDS)).optional(),
});

export type ConditionalRequest = z.infer<typeof conditionalRequestSchema>;
export type KindCheckpoint = z.infer<typeof kindCheckpointSchema>;
export type MetadataCheckpoint = z.infer<typeof metadataCheckpointSchema>;
