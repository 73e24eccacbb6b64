/**
 * Pseudonymous subject references. The log and the read views never hold an upstream
 * subject in the clear: they hold an HMAC of the upstream issuer and the subject under the
 * vault's `index:subject` key, and the subject itself sealed with a per-subject data key
 * (`subjectKeyId(ref)` in src/crypto/vault.ts; destroying that key erases the subject, the
 * reference stays as an opaque pseudonym).
 *
 * @module
 */
import type { Vault } from '../crypto/vault.js';

/** The subject-reference key: a keyed hash makes subject ids pseudonymous in the log. */
export const SUBJECT_INDEX_KEY = 'index:subject';

/** The reference of `subject` at `upstreamIssuer` (subjects are only unique per issuer, OIDC Core §2). */
export function subjectRefOf(vault: Vault, upstreamIssuer: string, subject: string): Promise<string> {
  return vault.hmac(SUBJECT_INDEX_KEY, `${upstreamIssuer}\n${subject}`);
}

