// The oldest TLS version this process accepts for any outbound connection: TLS 1.3 unless the
// configuration says TLSv1.2 (an older GitHub Enterprise Server). Node's https, fetch (undici),
// HTTP/2 and gRPC all start from tls.DEFAULT_MIN_VERSION, so one setting covers GitHub, Cloud
// Storage, KMS, Firestore and Pub/Sub. Set by the wiring, before any client is built.
import tls from "node:tls";
import type { Settings } from "./config/settings.js";

export function applyTlsPolicy(settings: Settings): tls.SecureVersion {
  const min = settings.backup.network.minTlsVersion;
  // Node documents DEFAULT_MIN_VERSION as settable; its type says read-only.
  (tls as { DEFAULT_MIN_VERSION: tls.SecureVersion }).DEFAULT_MIN_VERSION = min;
  return min;
}
