// Shared by the Pub/Sub-triggered functions: decode the push envelope's message, and decide
// between acknowledging (done, or permanently bad) and retrying (a transient failure).
import type { CloudEvent } from "@google-cloud/functions-framework";
import { BackupError, describeError, UserInputError } from "../core/errors.js";
import { log } from "../log.js";

interface MessagePublishedData {
  message?: { data?: string; messageId?: string; attributes?: Record<string, string> };
}

export interface DecodedMessage {
  data: unknown;
  messageId: string;
}

export function decodeMessage(event: CloudEvent<MessagePublishedData>): DecodedMessage {
  const message = event.data?.message;
  if (!message?.data) throw new UserInputError("Pub/Sub event has no message data");
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(message.data, "base64").toString("utf8"));
  } catch {
    throw new UserInputError("Pub/Sub message data is not JSON");
  }
  return { data, messageId: message.messageId ?? event.id ?? "unknown" };
}

/**
 * Runs `work` for one message. A permanent error (bad message, corrupt archive) is logged and the
 * message acknowledged: retrying cannot help and would block the queue. Anything else is
 * rethrown so Pub/Sub redelivers it (and after the retry budget, dead-letters it).
 */
export async function consume(
  name: string,
  event: CloudEvent<MessagePublishedData>,
  work: (message: DecodedMessage) => Promise<void>,
): Promise<void> {
  let message: DecodedMessage | undefined;
  try {
    message = decodeMessage(event);
    await work(message);
  } catch (err) {
    const permanent = err instanceof BackupError && err.permanent;
    log(permanent ? "ERROR" : "WARNING", `${name}: ${describeError(err)}`, {
      event: `${name}_${permanent ? "rejected" : "retry"}`,
      messageId: message?.messageId,
      permanent,
    });
    if (!permanent) throw err;
  }
}
