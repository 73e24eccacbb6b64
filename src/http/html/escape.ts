/**
 * HTML escaping for everything a page shows that came from outside (client metadata,
 * URIs, error text): `&`, `<`, `>`, `"` and `'` (OWASP rule #1; security-invariants item 4).
 *
 * @module
 */

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}
