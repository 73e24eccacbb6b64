/**
 * RFC 8785 JSON Canonicalization Scheme (JCS), the one serialisation the hash chain
 * and event ids are computed over.
 *
 * @module
 */
import canonicalize from 'canonicalize';

/** A JSON value: what event payloads and metadata are made of. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * Serialises a JSON value canonically (RFC 8785 §3): sorted keys, no whitespace,
 * ECMAScript number formatting. Throws on values JSON cannot represent, so a payload
 * that would hash differently after a round trip never reaches the log.
 */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) {
    throw new TypeError('canonicalJson: value is not representable as JSON');
  }
  return text;
}
