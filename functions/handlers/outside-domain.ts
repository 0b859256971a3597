// The Functions Framework runs each HTTP request inside a Node `domain` (to answer 500 on an error
// thrown anywhere in it). Every promise made inside a domain is bound to it, and each of its
// callbacks enters and leaves the domain: for the status page's one read of thousands of index
// documents that doubled backupHealth's time (bench/README.md "Status page"). Work started here
// runs outside the request's domain; its errors still reach the caller through the promise.
// answer() (http.ts) runs every HTTP function's work here. What the domain no longer catches: an
// exception thrown from a stray callback (not a rejection), which now reaches the framework's
// uncaughtException handler (a 500 to the newest request, and a new instance); our code rejects.
import type { Domain } from "node:domain";

export function outsideDomain<T>(work: () => Promise<T>): Promise<T> {
  const active = (process as { domain?: Domain }).domain;
  if (!active) return work();
  active.exit();
  try {
    return work();
  } finally {
    active.enter();
  }
}
