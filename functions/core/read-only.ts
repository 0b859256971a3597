// Recovery from a data folder that cannot be written (the disaster case: a backup disk mounted
// read-only, a copy on a DVD): list, status, verify and restore read it; backup and prune, which
// must write, are refused by name; what reading would note in passing (a verdict, an audit entry)
// goes where a person still sees it instead of failing the work.
import { describeError, UserInputError } from "./errors.js";
import type { AuditEvent, AuditLog, BlobStore, SnapshotIndex } from "./ports.js";

/** Index writes that only note what a read found: skipped (and said so) in a read-only folder. */
const NOTES = new Set<PropertyKey>(["recordVerification", "confirm", "recordAttempt"]);
/** Index writes that change what is backed up: refused in a read-only folder. */
const CHANGES = new Set<PropertyKey>(["commit", "remove", "setHold", "acquireLease", "updateRepository"]);

/**
 * `index`, opened read-only, as the use cases may call it: reads pass through; notes are skipped
 * with a word to `tell`; a change is a UserInputError naming the folder. Releasing a lease that
 * was never taken is nothing to do.
 */
export function readOnlyIndex<T extends SnapshotIndex>(
  index: T,
  where: string,
  tell: (line: string) => void,
): T {
  return new Proxy(index, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== "function") return value;
      if (NOTES.has(key))
        return async (...args: unknown[]) =>
          tell(`read-only data folder ${where}: ${String(key)} of ${String(args[0])} not recorded`);
      if (CHANGES.has(key))
        return async () => {
          throw new UserInputError(
            `the data folder ${where} is read-only: ${String(key)} needs a writable copy (list, status, ` +
              `verify and restore work read-only)`,
          );
        };
      if (key === "releaseLease") return async () => undefined;
      return (value as (...args: unknown[]) => unknown).bind(target);
    },
  });
}

/** `store` for reading only: put, delete and lifecycle changes are refused, naming the folder. */
export function readOnlyStore<T extends BlobStore>(store: T, where: string): T {
  const writes = new Set<PropertyKey>(["put", "delete", "setLifecycle"]);
  return new Proxy(store, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== "function") return value;
      if (writes.has(key))
        return async () => {
          throw new UserInputError(`the data folder ${where} is read-only: cannot ${String(key)} archives`);
        };
      return (value as (...args: unknown[]) => unknown).bind(target);
    },
  });
}

/**
 * An audit log that never loses an entry silently: when `primary` cannot take it (a read-only or
 * full disk), or there is none (a folder opened read-only), the entry goes whole to `fallback`
 * (stderr) with why.
 */
export function auditOrElse(primary: AuditLog | undefined, fallback: (line: string) => void): AuditLog {
  return {
    async record(event: AuditEvent) {
      try {
        if (!primary) throw new Error("the data folder is read-only");
        await primary.record(event);
      } catch (err) {
        fallback(`audit entry not written (${describeError(err)}): ${entry(event)}`);
      }
    },
  };
}

function entry(event: AuditEvent): string {
  try {
    return JSON.stringify(event, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  } catch {
    return JSON.stringify({ ...event, details: { unserializable: true } });
  }
}
