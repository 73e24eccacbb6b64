/**
 * The upstream IdP's HTML: a plain login form (no JavaScript) and an error page. Every
 * echoed value is HTML-escaped.
 *
 * @module
 */

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** What the login page shows. */
export interface LoginPageModel {
  /** Form action, e.g. `/interaction/<uid>`. */
  readonly action: string;
  readonly clientId: string;
  readonly scope: string;
  /** Prefilled username (login_hint or the previous attempt). */
  readonly username?: string;
  /** A visible error, e.g. "Invalid username or password". */
  readonly error?: string;
  readonly issuer: string;
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:24rem;margin:3rem auto;padding:0 1rem}label,input,button{display:block;width:100%;margin:.3rem 0}.error{color:#b00020}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

/** The login form: `username`, `password`, and the submit buttons "Sign in" and "Cancel". */
export function renderLoginPage(model: LoginPageModel): string {
  const error = model.error ? `<p class="error" role="alert">${escapeHtml(model.error)}</p>\n` : '';
  return page(
    'Sign in',
    `<h1>Sign in</h1>
<p>to continue to <strong>${escapeHtml(model.clientId)}</strong> (requested scope: <code>${escapeHtml(model.scope)}</code>)</p>
<p><small>Upstream IdP ${escapeHtml(model.issuer)}</small></p>
${error}<form method="post" action="${escapeHtml(model.action)}">
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" required value="${escapeHtml(model.username ?? '')}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" name="action" value="login">Sign in</button>
<button type="submit" name="action" value="cancel" formnovalidate>Cancel</button>
</form>`,
  );
}

/** A plain error page; `details` are shown as a definition list. */
export function renderErrorPage(title: string, details: Readonly<Record<string, unknown>>): string {
  const rows = Object.entries(details)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `<dt>${escapeHtml(key)}</dt><dd>${escapeHtml(value)}</dd>`)
    .join('\n');
  return page(title, `<h1>${escapeHtml(title)}</h1>\n<dl>\n${rows}\n</dl>`);
}
