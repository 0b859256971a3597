// What a host's inventory events say, once parsed (GitHub's installation, installation_repositories
// and repository webhooks): which repository, by stable id, changed how.

/** A repository as an event names it. */
export interface RepositoryRef {
  /** The host's stable id. */
  id: number;
  /** "owner/name" now. */
  name: string;
}

export type InventoryEvent =
  /** Created, added to the installation, installed with it, or reachable again: a first snapshot. */
  | {
      kind: "appeared";
      repos: RepositoryRef[];
      why: "created" | "added" | "installed" | "unsuspended";
      installationId?: number;
    }
  /** Renamed, or transferred to another owner: the history continues under the new name. */
  | {
      kind: "renamed";
      repo: RepositoryRef;
      from: string;
      how: "renamed" | "transferred";
      installationId?: number;
    }
  /** Archived or unarchived on GitHub; still backed up. */
  | { kind: "archived"; repo: RepositoryRef; archived: boolean; installationId?: number }
  /** Made public or private: its settings changed, nothing else. */
  | { kind: "changed"; repo: RepositoryRef; what: string; installationId?: number }
  /** Deleted on GitHub: its backups are kept, no snapshot is requested any more. */
  | { kind: "deleted"; repo: RepositoryRef }
  /**
   * The App can no longer reach these repositories (removed from the installation, installation
   * suspended or deleted). `repos` absent: every repository of the installation.
   */
  | { kind: "detached"; repos?: RepositoryRef[]; why: string; installationId: number };
