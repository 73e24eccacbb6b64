/**
 * flowgate's consent page (MCP security best practices, "per-client consent"): who is
 * asking (the client name, marked unverified when self-asserted), where the answer goes
 * (the redirect URI's host), what it may do (scopes with descriptions), and two buttons
 * whose visible text is exactly **Approve** and **Deny**. The form carries the flow id and
 * the CSRF token bound to this flow and this browser.
 *
 * @module
 */
import { escapeHtml } from './escape.js';
import { page } from './layout.js';

/** What the consent page shows. */
export interface ConsentPageModel {
  readonly action: string;
  readonly flowId: string;
  readonly csrf: string;
  readonly clientName: string;
  /** `verified` for static and metadata-document clients (a domain), `unverified` for self-registered ones. */
  readonly clientTrust: { readonly kind: 'verified'; readonly label: string } | { readonly kind: 'unverified' };
  readonly clientId: string;
  readonly redirectHost: string;
  readonly redirectUri: string;
  readonly scopes: ReadonlyArray<{ readonly name: string; readonly description: string }>;
  readonly resource: string;
  readonly upstreamName: string;
}

/** The HTML of the consent page. */
export function consentPage(model: ConsentPageModel): string {
  const trust =
    model.clientTrust.kind === 'verified'
      ? `<span class="badge verified">${escapeHtml(model.clientTrust.label)}</span>`
      : '<span class="badge">unverified</span>';
  const scopes = model.scopes.length
    ? `<ul class="scopes">${model.scopes
        .map((s) => `<li><strong>${escapeHtml(s.description)}</strong> <span class="muted">(<code>${escapeHtml(s.name)}</code>)</span></li>`)
        .join('')}</ul>`
    : '<p class="muted">No particular permissions.</p>';
  return page(
    'Authorize access',
    `<h1>${escapeHtml(model.clientName)} ${trust} wants to access your account</h1>
<p>If you approve, you will sign in with ${escapeHtml(model.upstreamName)} and
<strong>${escapeHtml(model.clientName)}</strong> will be able to:</p>
${scopes}
<p>on <code>${escapeHtml(model.resource)}</code>.</p>
<p>Credentials will be sent to <strong>${escapeHtml(model.redirectHost)}</strong>.</p>
<p class="muted">Client ID <code>${escapeHtml(model.clientId)}</code>; redirect URI <code>${escapeHtml(model.redirectUri)}</code>.
Only approve if you started this from an application you trust.</p>
<form method="post" action="${escapeHtml(model.action)}">
<input type="hidden" name="flow" value="${escapeHtml(model.flowId)}">
<input type="hidden" name="csrf" value="${escapeHtml(model.csrf)}">
<div class="actions">
<button type="submit" name="decision" value="deny">Deny</button>
<button type="submit" name="decision" value="approve" class="primary">Approve</button>
</div>
</form>`,
  );
}
