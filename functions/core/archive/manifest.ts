// manifest.json, the last entry of every archive: what the archive holds and how to check it.
import { z } from "zod";
import { ALL_KINDS } from "../metadata/kinds.js";
import { kindOutcomeSchema } from "../metadata/outcome.js";

export const manifestEntrySchema = z.strictObject({
  /** Logical path, e.g. "git/repo.bundle". */
  path: z.string().min(1),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Tar entries that hold the file, in order; concatenated they are the file. */
  parts: z.array(z.string().min(1)),
});

export const manifestSchema = z.strictObject({
  format: z.literal(1),
  snapshotId: z.string().min(1),
  repo: z.string().min(1),
  takenAt: z.iso.datetime(),
  /** "layer": a shared pack layer (git/layer.pack, git/layer.oids) or its oids alone; "layered": a snapshot whose git objects are in layers. */
  kind: z.enum(["full", "incremental", "layered", "layer"]),
  /** For an incremental: the snapshot whose archive is applied just before this one. */
  parentId: z.string().min(1).optional(),
  refs: z.record(z.string(), z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/)),
  head: z.string().optional(),
  /** Annotated tags: what each peels to (`git rev-parse <ref>^{}`). Absent in older archives. */
  peeled: z.record(z.string(), z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/)).optional(),
  /** Refs that lead to no commit (a tag of a tree or blob, a ref straight at one), when any. */
  nonCommits: z.array(z.string()).optional(),
  /** The wiki's refs, when the archive holds git/wiki.bundle. */
  wikiRefs: z.record(z.string(), z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/)).optional(),
  wikiHead: z.string().optional(),
  /** A layered snapshot's layers (its new one first), as committed: the objects are in them. */
  layers: z.array(z.string().min(1)).optional(),
  /** Commits the bundle assumes present (incremental snapshots): its `-<oid>` lines. */
  prerequisites: z.array(z.string()),
  /** GitHub metadata (meta/): what became of each kind; absent when the archive holds none. */
  metadata: z.strictObject({ kinds: z.partialRecord(z.enum(ALL_KINDS), kindOutcomeSchema) }).optional(),
  /** Git LFS objects (lfs/objects/<oid>): present when the snapshot's new blobs had LFS pointers. */
  lfs: z
    .strictObject({
      objects: z.number().int().nonnegative(),
      bytes: z.number().int().nonnegative(),
      /** Objects the pointers name that the source could not give, and why. */
      unavailable: z.array(
        z.strictObject({
          oid: z.string().regex(/^[0-9a-f]{64}$/),
          size: z.number().int().nonnegative(),
          status: z.number().int().optional(),
          reason: z.string(),
        }),
      ),
    })
    .optional(),
  entries: z.array(manifestEntrySchema),
});

export type ManifestEntry = z.infer<typeof manifestEntrySchema>;
export type Manifest = z.infer<typeof manifestSchema>;
export const MANIFEST_PATH = "manifest.json";
