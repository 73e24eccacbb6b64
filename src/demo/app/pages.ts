/**
 * The demo's pages: the start page (what runs where, "Start a flow", how to connect a real
 * MCP client), the result of a flow (whoami, the token response without the tokens, the
 * timeline from the event log), a denied flow, and errors.
 *
 * @module
 */
import { buttonForm, esc, keyValues, page } from './html.js';
import type { WhoamiAnswer } from './mcp-server.js';
import { timelineTable, type Timeline } from './timeline.js';

/** What the start page tells about the running demo. */
export interface DemoInfo {
  readonly url: string;
  readonly mcpUrl: string;
  readonly idpUrl: string;
  readonly users: readonly string[];
  readonly sqlitePath: string;
  readonly accessTokenTtlSeconds: number;
  readonly version: string;
}

/** A secret shown only as its length and first characters. */
export interface SecretPreview {
  readonly length: number;
  readonly prefix: string;
}

/** One token response, without the tokens themselves. */
export interface TokenSnapshot {
  readonly tokenType: string;
  readonly expiresIn: number | null;
  readonly scope: string | null;
  readonly accessToken: SecretPreview;
  readonly refreshToken: SecretPreview | null;
  /** The access token's JOSE header and claims (a JWT's content is readable by whoever holds it; the signature is not shown). */
  readonly header: Readonly<Record<string, unknown>>;
  readonly claims: Readonly<Record<string, unknown>>;
}

/** What calling `whoami` gave. */
export type WhoamiOutcome =
  | { readonly ok: true; readonly answer: WhoamiAnswer; readonly ms: number }
  | { readonly ok: false; readonly error: string; readonly ms: number };

/** One token request of the demo client (or a call only) and the `whoami` call with its access token. */
export interface FlowStep {
  /** A token request with this grant type, or `call`: `whoami` again with the current access token. */
  readonly kind: 'authorization_code' | 'refresh_token' | 'call';
  readonly at: number;
  /** The token response (null for a call, or when the token endpoint refused). */
  readonly tokens: TokenSnapshot | null;
  /** The token endpoint's error, when it refused. */
  readonly tokenError: string | null;
  readonly whoami: WhoamiOutcome | null;
}

/** Everything the result page shows. */
export interface ResultModel {
  readonly info: DemoInfo;
  readonly clientId: string;
  readonly flowId: string;
  readonly grantId: string;
  readonly steps: readonly FlowStep[];
  readonly flow: Timeline;
  readonly grant: Timeline;
  /** Grant events after this stream version are marked new (after a refresh). */
  readonly newAfterGrantVersion?: number;
  readonly canRefresh: boolean;
  readonly canCall: boolean;
}

function mcpClientHelp(info: DemoInfo): string {
  return `<ul>
<li><strong>MCP Inspector</strong>: run <code>npx @modelcontextprotocol/inspector</code>, choose transport <em>Streamable HTTP</em>,
enter <code>${esc(info.mcpUrl)}</code> and connect; it discovers flowgate, registers itself and sends you through the same consent and login.</li>
<li><strong>Claude Code</strong>: <code>claude mcp add --transport http demo ${esc(info.mcpUrl)}</code>, then <code>/mcp</code> in Claude Code to authenticate.</li>
<li>Any MCP client with OAuth support: point it at <code>${esc(info.mcpUrl)}</code>.</li>
</ul>`;
}

/** `GET /`. */
export function startPage(info: DemoInfo): string {
  const ttl =
    info.accessTokenTtlSeconds < 3600
      ? `${info.accessTokenTtlSeconds} s (from <code>FLOWGATE_ACCESS_TOKEN_TTL</code>)`
      : `${info.accessTokenTtlSeconds} s (set <code>FLOWGATE_ACCESS_TOKEN_TTL=30</code> to watch tokens expire)`;
  return page(
    'flowgate demo',
    `<h1>flowgate demo</h1>
<p>flowgate is an OAuth 2.1 authorization server for MCP servers that signs users in with an upstream identity
provider, and records every step of every flow as an event in an append-only log. Everything below runs on your machine.</p>
<h2>See a flow, in the browser</h2>
<ol class="steps">
<li>The built-in demo client registers itself at flowgate's <code>/register</code> and sends you to <code>/authorize</code>.</li>
<li>flowgate asks for your consent: click <strong>Approve</strong>.</li>
<li>The upstream IdP asks you to sign in: <strong>${info.users.map((u) => esc(u)).join('</strong> or <strong>')}</strong> (username/password).</li>
<li>The client exchanges the code at <code>/token</code>, calls the MCP tool <code>whoami</code> with the access token,
and shows you the answer and the flow's timeline, replayed from the event log.</li>
</ol>
<div class="actions">${buttonForm('/demo/start', 'Start a flow', true)}</div>
<h2>Connect a real MCP client</h2>
${mcpClientHelp(info)}
<h2>What is running</h2>
${keyValues([
  ['flowgate (issuer)', `<code>${esc(info.url)}</code> — <a href="/.well-known/oauth-authorization-server">metadata</a>`],
  ['demo MCP server', `<code>${esc(info.mcpUrl)}</code> — tools <code>whoami</code>, <code>echo</code>; <a href="/.well-known/oauth-protected-resource/mcp">protected-resource metadata</a>`],
  ['upstream IdP', `<code>${esc(info.idpUrl)}</code> — oidc-provider, users ${info.users.map((u) => `<code>${esc(u)}</code>`).join(', ')}`],
  ['event log', `<code>${esc(info.sqlitePath)}</code> (SQLite)`],
  ['access-token lifetime', ttl],
])}
<p class="muted">flowgate ${esc(info.version)} · demo mode: a development master key, generous registration limits. Stop it with Ctrl-C.</p>`,
  );
}

function preview(secret: SecretPreview): string {
  return `${esc(secret.length)} characters, starts <code>${esc(secret.prefix)}…</code>`;
}

function time(seconds: unknown): string {
  return typeof seconds === 'number' ? `${seconds} (${new Date(seconds * 1000).toISOString().replace('.000Z', 'Z')})` : String(seconds);
}

function tokenSection(tokens: TokenSnapshot): string {
  const claims = tokens.claims;
  const claimRows: Array<[string, string]> = [];
  for (const name of ['iss', 'aud', 'sub', 'client_id', 'scope', 'iat', 'exp', 'jti']) {
    if (claims[name] === undefined) continue;
    const value = name === 'iat' || name === 'exp' ? time(claims[name]) : name === 'jti' ? `${String(claims[name]).slice(0, 10)}…` : String(claims[name]);
    claimRows.push([name, `<code>${esc(value)}</code>`]);
  }
  return `${keyValues([
    ['token_type', `<code>${esc(tokens.tokenType)}</code>`],
    ['expires_in', tokens.expiresIn === null ? '—' : `${esc(tokens.expiresIn)} s`],
    ['scope', tokens.scope === null ? '—' : `<code>${esc(tokens.scope)}</code>`],
    ['access_token', `${preview(tokens.accessToken)} — flowgate's own JWT (header <code>${esc(JSON.stringify(tokens.header))}</code>)`],
    ['refresh_token', tokens.refreshToken ? `${preview(tokens.refreshToken)} — opaque; flowgate stores only its hash` : '—'],
  ])}
<p class="muted">The access token's claims (what the MCP server's bearer guard checks: signature, <code>iss</code>, <code>aud</code>, <code>exp</code>, and that its <code>jti</code> and grant are still active):</p>
${keyValues(claimRows)}`;
}

function whoamiSection(outcome: WhoamiOutcome | null): string {
  if (!outcome) return '<p class="muted">Not called: there was no access token.</p>';
  if (!outcome.ok) {
    return `<div class="callout error"><p><strong>The MCP call failed</strong> (${esc(outcome.ms)} ms): ${esc(outcome.error)}</p>
<p class="muted">An expired or revoked access token gets 401 with <code>WWW-Authenticate: Bearer error="invalid_token"</code>; refresh to get a new one.</p></div>`;
  }
  const a = outcome.answer;
  return `<div class="callout"><p><span class="ok">✓</span> <code>tools/call whoami</code> through <code>/mcp</code> answered in ${esc(outcome.ms)} ms:</p>
${keyValues([
  ['subject (upstream user)', `<strong id="whoami-subject">${esc(a.subject ?? '—')}</strong>`],
  ['client id', `<code>${esc(a.clientId ?? '—')}</code>`],
  ['scopes', `<code>${esc(a.scopes.join(' ') || '(none)')}</code>`],
  ['resource', `<code>${esc(a.resource ?? '—')}</code>`],
])}
<pre>${esc(JSON.stringify(a, null, 2))}</pre></div>`;
}

function stepTitle(step: FlowStep, index: number): string {
  const what = step.kind === 'authorization_code' ? 'code exchange' : step.kind === 'refresh_token' ? 'refresh' : 'whoami call';
  const when = new Date(step.at).toISOString().slice(11, 19);
  return `${index + 1}. ${what} at ${when} UTC`;
}

/** `GET /demo/result`. */
export function resultPage(model: ResultModel): string {
  const last = model.steps[model.steps.length - 1]!;
  const withTokens = [...model.steps].reverse().find((s) => s.tokens !== null || s.kind !== 'call') ?? last;
  const origin = model.flow.rows[0]?.at ?? model.grant.rows[0]?.at ?? last.at;
  const earlier = model.steps.slice(0, -1);
  const heading = last.whoami?.ok
    ? `It works: <code>whoami</code> says you are <strong>${esc(last.whoami.answer.subject ?? '?')}</strong>`
    : last.tokenError
      ? 'The token request was refused'
      : 'The MCP call failed';
  const tokenPart = withTokens.tokens
    ? tokenSection(withTokens.tokens)
    : `<div class="callout error"><p>${esc(withTokens.tokenError ?? 'no tokens')}</p></div>`;
  const summary = (step: FlowStep): string => {
    const parts: string[] = [];
    if (step.tokens) parts.push(`access token <code>jti ${esc(String(step.tokens.claims.jti ?? '?').slice(0, 10))}…</code>`);
    if (step.tokenError) parts.push(esc(step.tokenError));
    if (step.whoami) parts.push(step.whoami.ok ? `whoami: ${esc(step.whoami.answer.subject ?? '?')}` : `whoami failed: ${esc(step.whoami.error)}`);
    return parts.join(' — ');
  };
  const history = earlier.length
    ? `<h2>Earlier steps</h2><ul>${earlier.map((step, i) => `<li>${esc(stepTitle(step, i))}: ${summary(step)}</li>`).join('')}</ul>`
    : '';
  return page(
    'flowgate demo: result',
    `<h1>${heading}</h1>
<p class="muted">${esc(stepTitle(last, model.steps.length - 1))} · client <code>${esc(model.clientId)}</code> · flow <code>${esc(model.flowId)}</code> · grant <code>${esc(model.grantId)}</code></p>
<div class="actions">
${model.canRefresh ? buttonForm('/demo/refresh', 'Refresh tokens', true) : ''}
${model.canCall ? buttonForm('/demo/call', 'Call whoami again') : ''}
${buttonForm('/demo/start', 'Start another flow')}
<form method="get" action="/"><button type="submit">Start page</button></form>
</div>
<h2>The MCP server's answer</h2>
${whoamiSection(last.whoami)}
<p class="muted">The access token expires after ${esc(model.info.accessTokenTtlSeconds)} s: call <code>whoami</code> again after that to see
flowgate's 401, then refresh (start with <code>FLOWGATE_ACCESS_TOKEN_TTL=30</code> to see it sooner).</p>
<h2>The token response (${esc(withTokens.kind === 'refresh_token' ? 'refresh_token' : 'authorization_code')} grant)</h2>
${tokenPart}
<h2>The flow's timeline</h2>
<p class="muted">Stream <code>${esc(model.flow.streamId)}</code>, replayed through the ${esc(model.flow.machine ?? '?')} machine
(each event is checked against the state it was written in); now <strong>${esc(model.flow.finalState ?? '—')}</strong>.</p>
${timelineTable(model.flow, origin)}
<h2>The grant's timeline</h2>
<p class="muted">Stream <code>${esc(model.grant.streamId)}</code> (the token family: access tokens by <code>jti</code>, refresh-token rotations, upstream refreshes),
replayed through the ${esc(model.grant.machine ?? '?')} machine; now <strong>${esc(model.grant.finalState ?? '—')}</strong>.
${model.newAfterGrantVersion !== undefined ? 'Events of the last refresh are marked <span class="tag">new</span>.' : ''}</p>
${timelineTable(model.grant, origin, model.newAfterGrantVersion)}
${history}
<h2>Connect a real MCP client</h2>
${mcpClientHelp(model.info)}`,
  );
}

/** The redirect came back with `error=access_denied`. */
export function deniedPage(description: string | null): string {
  return page(
    'flowgate demo: access denied',
    `<h1>You denied access</h1>
<div class="callout"><p>flowgate sent the browser back to the demo client's redirect URI with
<code>error=access_denied</code>${description ? ` (<q>${esc(description)}</q>)` : ''}: the standard OAuth answer
(RFC 6749 §4.1.2.1) when the user says no, whether on flowgate's consent page or at the upstream sign-in.</p>
<p>No code was issued, so there are no tokens. The flow's log ends with <code>consent.denied</code> (or the upstream's error).</p></div>
<div class="actions">${buttonForm('/demo/start', 'Start a flow', true)}<form method="get" action="/"><button type="submit">Start page</button></form></div>`,
  );
}

/** Something went wrong; `details` are shown as a list. */
export function errorPage(title: string, message: string, details: Readonly<Record<string, string | null | undefined>> = {}): string {
  const rows = Object.entries(details).filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1] !== '');
  return page(
    `flowgate demo: ${title}`,
    `<h1>${esc(title)}</h1>
<div class="callout error"><p>${esc(message)}</p></div>
${rows.length ? keyValues(rows.map(([k, v]) => [k, `<code>${esc(v)}</code>`] as const)) : ''}
<div class="actions">${buttonForm('/demo/start', 'Start a flow', true)}<form method="get" action="/"><button type="submit">Start page</button></form></div>`,
  );
}
