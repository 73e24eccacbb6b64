/**
 * The local error page: shown instead of a redirect whenever the client or its redirect
 * URI cannot be trusted (OAuth 2.1 §4.1.2.1, RFC 9700 §4.11.2), and for flow problems such
 * as another browser or an expired request.
 *
 * @module
 */
import { escapeHtml } from './escape.js';
import { page } from './layout.js';

/** The HTML of an error page. */
export function errorPage(title: string, message: string, code?: string): string {
  return page(
    title,
    `<div class="error">
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(message)}</p>
${code ? `<p class="muted">Error: <code>${escapeHtml(code)}</code></p>` : ''}
</div>
<p class="muted">You can close this window and start again from your application.</p>`,
  );
}
