// Where the Firestore index keeps things: repos/{repoKey}, repos/{repoKey}/snapshots/{snapshotId},
// repos/{repoKey}/layers/{layerId}, layerState/{repoKey},
// leases/{repoKey}, attempts/{repoKey} and repositories/{id} (repoKey: a lineage key, see ports.ts), optionally under a root document, with names made safe as document ids.
import type { CollectionReference, DocumentReference, Firestore } from "@google-cloud/firestore";
import { UserInputError } from "../../core/errors.js";

/** Firestore's limit for a document id, in UTF-8 bytes. */
const MAX_ID_BYTES = 1500;

export class FirestorePaths {
  private readonly base: Firestore | DocumentReference;

  /** `root`: a document path ("test-runs/abc") to keep the collections under; default: top level. */
  constructor(db: Firestore, root?: string) {
    if (root !== undefined && root !== "") {
      const segments = root.split("/");
      if (segments.length % 2 !== 0 || segments.some((s) => !isValidId(s))) {
        throw new UserInputError(
          `Firestore root ${JSON.stringify(root)} must be a document path ("collection/doc")`,
        );
      }
      this.base = db.doc(root);
    } else {
      this.base = db;
    }
  }

  /** One document per repo with at least one snapshot; it holds the repo's name for repos(). */
  repos(): CollectionReference {
    return this.base.collection("repos");
  }

  repo(repo: string): DocumentReference {
    return this.repos().doc(repoKey(repo));
  }

  /**
   * repoRemovals/{repoKey}: when a repo document was last deleted (its last snapshot removed), so
   * a warm read learns of it (firestore-warm-read.ts).
   */
  repoRemovals(): CollectionReference {
    return this.base.collection("repoRemovals");
  }

  snapshots(repo: string): CollectionReference {
    return this.repo(repo).collection("snapshots");
  }

  snapshot(repo: string, id: string): DocumentReference {
    if (!isValidId(id)) {
      throw new UserInputError(
        `snapshot id ${JSON.stringify(id.slice(0, 120))} cannot be a Firestore document id`,
      );
    }
    return this.snapshots(repo).doc(id);
  }

  /** repos/{repoKey}/layers/{layerId}: a lineage's shared pack layers (firestore-layers.ts). */
  layers(repo: string): CollectionReference {
    return this.repo(repo).collection("layers");
  }

  layer(repo: string, id: string): DocumentReference {
    if (!isValidId(id)) {
      throw new UserInputError(
        `layer id ${JSON.stringify(id.slice(0, 120))} cannot be a Firestore document id`,
      );
    }
    return this.layers(repo).doc(id);
  }

  /** layerState/{repoKey}: a lineage's layer generation, moved by every layer transaction. */
  layerState(repo: string): DocumentReference {
    return this.base.collection("layerState").doc(repoKey(repo));
  }

  /** attempts/{repoKey}: how the latest backup attempt of a repo ended (repos without snapshots too). */
  attempts(): CollectionReference {
    return this.base.collection("attempts");
  }

  attempt(repo: string): DocumentReference {
    return this.attempts().doc(repoKey(repo));
  }

  /** repositories/{id}: the repository registry (core/lineage/), by the host's stable id. */
  repositories(): CollectionReference {
    return this.base.collection("repositories");
  }

  repository(id: number): DocumentReference {
    return this.repositories().doc(String(id));
  }

  leases(): CollectionReference {
    return this.base.collection("leases");
  }

  /** auditChains/{chainKey}: one hash chain of the audit trail (its head: seq and hash). */
  auditChains(): CollectionReference {
    return this.base.collection("auditChains");
  }

  /** auditChains/{chainKey}/entries/{seq, 12 digits}: the chain's entries in order. */
  auditEntries(chain: string): CollectionReference {
    return this.auditChains().doc(repoKey(chain)).collection("entries");
  }

  /** repositoryKeys/{repoKey}: a repository's wrapped keys, or the record of their destruction. */
  repositoryKeys(): CollectionReference {
    return this.base.collection("repositoryKeys");
  }

  keySet(repo: string): DocumentReference {
    return this.repositoryKeys().doc(repoKey(repo));
  }

  /** repositoryKeys/{repoKey}/dataKeys/{snapshotId}: each archive's wrapped data key. */
  dataKeys(repo: string): CollectionReference {
    return this.keySet(repo).collection("dataKeys");
  }

  dataKey(repo: string, snapshotId: string): DocumentReference {
    if (!isValidId(snapshotId)) {
      throw new UserInputError(
        `snapshot id ${JSON.stringify(snapshotId.slice(0, 120))} cannot be a document id`,
      );
    }
    return this.dataKeys(repo).doc(snapshotId);
  }

  /** redactions/{login, lower case}: the redaction list. */
  redactions(): CollectionReference {
    return this.base.collection("redactions");
  }

  lease(repo: string): DocumentReference {
    return this.leases().doc(repoKey(repo));
  }

  /** deliveries/{key}: webhook delivery ids already acted on (DeliveryLog), kept until `expiresAt`. */
  delivery(id: string): DocumentReference {
    return this.base.collection("deliveries").doc(repoKey(id));
  }
}

/**
 * "owner/name" as a document id: percent-encoded, so "/" (a path separator for Firestore) becomes
 * "%2F" and distinct names stay distinct. A leading "." or "_" is encoded too: "." and ".." and
 * ids of the form __x__ are reserved by Firestore.
 */
export function repoKey(repo: string): string {
  if (typeof repo !== "string" || repo === "")
    throw new UserInputError("a repo name must be a non-empty string");
  const key = encodeURIComponent(repo).replace(
    /^[._]/,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  if (Buffer.byteLength(key, "utf8") > MAX_ID_BYTES) {
    throw new UserInputError(`repo name ${JSON.stringify(repo.slice(0, 120))}… is too long for the index`);
  }
  return key;
}

function isValidId(id: string): boolean {
  return (
    typeof id === "string" &&
    id !== "" &&
    id !== "." &&
    id !== ".." &&
    !id.includes("/") &&
    !/^__.*__$/.test(id) &&
    Buffer.byteLength(id, "utf8") <= MAX_ID_BYTES
  );
}
