/**
 * Compact JWE with direct key agreement and AES-256-GCM (RFC 7516 §7.1, RFC 7518 §4.5 and
 * §5.3): the one JWE shape the vault produces. Written on node:crypto because sealing sits
 * on every login's hot path and WebCrypto's asynchronous calls cost far more than the
 * cipher itself on a busy machine; the output is standard compact JWE (a test opens it
 * with jose's `compactDecrypt`, and this module opens what jose produces).
 *
 * @module
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const ENCODED_ALG_ENC = { alg: 'dir', enc: 'A256GCM' } as const;

/** The protected header: `alg: dir`, `enc: A256GCM`, plus the caller's fields. */
export type JweHeader = typeof ENCODED_ALG_ENC & Record<string, unknown>;

/** Encrypts `plaintext` for the 32-byte `key`; `header` is authenticated (it is the AAD). */
export function encryptCompactDir(key: Uint8Array, header: Record<string, unknown>, plaintext: string): string {
  const protectedHeader = Buffer.from(JSON.stringify({ ...ENCODED_ALG_ENC, ...header })).toString('base64url');
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(protectedHeader, 'ascii'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return `${protectedHeader}..${iv.toString('base64url')}.${ciphertext.toString('base64url')}.${tag.toString('base64url')}`;
}

/** The protected header of a compact JWE, without decrypting it. */
export function decodeJweHeader(jwe: string): Record<string, unknown> {
  const first = jwe.split('.', 1)[0] ?? '';
  const header = JSON.parse(Buffer.from(first, 'base64url').toString('utf8')) as unknown;
  if (typeof header !== 'object' || header === null) throw new TypeError('JWE header is not an object');
  return header as Record<string, unknown>;
}

/** Decrypts a compact JWE made with `alg: dir` and `enc: A256GCM`; throws when anything is off. */
export function decryptCompactDir(key: Uint8Array, jwe: string): string {
  const parts = jwe.split('.');
  if (parts.length !== 5) throw new TypeError('a compact JWE has five parts');
  const [protectedHeader, encryptedKey, iv, ciphertext, tag] = parts as [string, string, string, string, string];
  const header = decodeJweHeader(jwe);
  if (header.alg !== 'dir' || header.enc !== 'A256GCM' || encryptedKey !== '') {
    throw new TypeError('only alg "dir" with enc "A256GCM" is accepted');
  }
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(protectedHeader, 'ascii'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
}
