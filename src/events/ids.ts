/**
 * Identifiers for commands and events. Command ids are random per incoming request;
 * event ids are derived from the command id, so only a true retry of the same command
 * produces the same event ids (the idempotency rule of docs/store.md).
 *
 * @module
 */
import { createHash, randomUUID } from 'node:crypto';

/** A fresh, random command id (UUID v4, 122 bits of randomness). */
export function newCommandId(): string {
  return randomUUID();
}

/**
 * The id of the `index`-th event a command appends (counting across every stream the
 * command touches). Deterministic: SHA-256 over the command id and index, formatted as a
 * UUID (version 8, RFC 9562 §5.8), so retries of one command reuse their event ids and two
 * commands never share one.
 */
export function deriveEventId(commandId: string, index: number): string {
  const digest = createHash('sha256').update(`flowgate/event-id/v1:${commandId}:${index}`).digest();
  digest[6] = (digest[6]! & 0x0f) | 0x80;
  digest[8] = (digest[8]! & 0x3f) | 0x80;
  const hex = digest.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
