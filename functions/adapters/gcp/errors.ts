// Google client errors become ours at the adapter boundary, the SDK error kept as `cause`, so that
// callers never depend on an SDK's error shape. gRPC (Firestore, KMS, Pub/Sub) and HTTP (Storage).
import { BackupError, ConflictError, NotFoundError } from "../../core/errors.js";

/** gRPC status codes by number (google.rpc.Code); defined here so no gRPC package is imported. */
const GRPC_NAMES = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
] as const;
export type GrpcCodeName = (typeof GRPC_NAMES)[number];

/**
 * Codes worth retrying: the service or the network may answer differently next time. Everything
 * else (a bad request, a refused permission, a missing or disabled key) needs a person.
 */
const TRANSIENT_GRPC = new Set<GrpcCodeName>([
  "CANCELLED",
  "UNKNOWN",
  "DEADLINE_EXCEEDED",
  "RESOURCE_EXHAUSTED",
  "ABORTED",
  "INTERNAL",
  "UNAVAILABLE",
]);

/** Node network failures that a retry may cure (no HTTP status was ever received). */
const TRANSIENT_NETWORK = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
  "ECONNABORTED",
]);

/** The gRPC status name of an error from a gax/grpc-js client, if it has one. */
export function grpcCode(err: unknown): GrpcCodeName | undefined {
  const code = field(err, "code");
  return typeof code === "number" && Number.isInteger(code) ? GRPC_NAMES[code] : undefined;
}

export function isTransientGrpc(code: GrpcCodeName | undefined): boolean {
  return code === undefined || TRANSIENT_GRPC.has(code);
}

/** The HTTP status of an error from @google-cloud/storage (ApiError / GaxiosError), if any. */
export function httpStatus(err: unknown): number | undefined {
  const code = field(err, "code") ?? field(field(err, "response"), "status");
  return typeof code === "number" && code >= 100 && code < 600 ? code : undefined;
}

/** The reason code of Cloud Storage's JSON error ("retentionPolicyNotMet"), if it gave one. */
export function errorReason(err: unknown): string | undefined {
  const errors = field(err, "errors");
  const reason = Array.isArray(errors) ? field(errors[0], "reason") : undefined;
  return typeof reason === "string" ? reason : undefined;
}

/** The short reason the service gave, without request contents. */
export function detailOf(err: unknown): string {
  const details = field(err, "details");
  const text = typeof details === "string" && details ? details : err instanceof Error ? err.message : "";
  // gax appends retry diagnostics over several lines; the first line is the reason.
  return (text.split("\n")[0] ?? "").slice(0, 300);
}

/**
 * A gRPC failure as our error: NOT_FOUND and ALREADY_EXISTS become NotFoundError / ConflictError
 * when the caller says they mean that; everything else is a BackupError, permanent unless retrying
 * may help.
 */
export function fromGrpc(
  err: unknown,
  what: string,
  meaning: { notFound?: boolean; alreadyExists?: boolean } = {},
): BackupError {
  if (err instanceof BackupError) return err;
  const code = grpcCode(err);
  const message = `${what}: ${code ?? "error"}${detailOf(err) ? ` (${detailOf(err)})` : ""}`;
  if (code === "NOT_FOUND" && meaning.notFound) return new NotFoundError(message, { cause: err });
  if (code === "ALREADY_EXISTS" && meaning.alreadyExists) return new ConflictError(message, { cause: err });
  return new BackupError(message, { cause: err, permanent: !isTransientGrpc(code) });
}

/**
 * A Cloud Storage failure as our error: 404 NotFoundError, 412 ConflictError (a generation
 * precondition failed), 408/429/5xx and network errors transient, other 4xx permanent.
 */
export function fromHttp(err: unknown, what: string): BackupError {
  if (err instanceof BackupError) return err;
  const status = httpStatus(err);
  const network = field(err, "code");
  const reason = status !== undefined ? `HTTP ${status}` : typeof network === "string" ? network : "error";
  const message = `${what}: ${reason}${detailOf(err) ? ` (${detailOf(err)})` : ""}`;
  if (status === 404) return new NotFoundError(message, { cause: err });
  if (status === 412) return new ConflictError(message, { cause: err });
  const transient =
    status === undefined
      ? typeof network !== "string" || TRANSIENT_NETWORK.has(network)
      : status === 408 || status === 429 || status >= 500;
  return new BackupError(message, { cause: err, permanent: !transient });
}

function field(value: unknown, name: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}
