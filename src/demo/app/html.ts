/**
 * The demo's page layout: self-contained HTML (inline styles only, no scripts, no network
 * assets), every outside value escaped, served with the same security headers as
 * flowgate's own pages (CSP with `frame-ancestors 'none'`, `X-Frame-Options: DENY`,
 * `Referrer-Policy: same-origin`, `Cache-Control: no-store`).
 *
 * @module
 */
import { escapeHtml } from '../../http/html/escape.js';
import { page as layoutPage } from '../../http/html/layout.js';

/** Escapes any value for HTML text and quoted attributes. */
export function esc(value: unknown): string {
  return escapeHtml(String(value));
}

const STYLE = `
  :root { color-scheme: light; }
  body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; background: #f4f5f7; color: #1c1e21; margin: 0; }
  main { max-width: 60rem; margin: 2rem auto; background: #fff; border-radius: 12px; padding: 1.5rem 2rem 2rem; box-shadow: 0 1px 4px rgba(0,0,0,.12); }
  h1 { font-size: 1.45rem; margin: 0 0 .75rem; }
  h2 { font-size: 1.1rem; margin: 1.75rem 0 .5rem; border-bottom: 1px solid #e3e5e8; padding-bottom: .25rem; }
  p, li { line-height: 1.5; }
  .muted { color: #5f6b7a; font-size: .9rem; }
  code, pre { background: #f0f1f3; border-radius: 4px; font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace; font-size: .85rem; }
  code { padding: .05rem .3rem; word-break: break-all; }
  pre { padding: .6rem .8rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
  table { border-collapse: collapse; width: 100%; font-size: .88rem; }
  th, td { text-align: left; vertical-align: top; padding: .3rem .5rem; border-bottom: 1px solid #eceef1; }
  th { background: #f8f9fa; font-weight: 600; }
  td.nowrap, th.nowrap { white-space: nowrap; }
  tr.new td { background: #fffbe6; }
  .tag { display: inline-block; font-size: .72rem; padding: 0 .4rem; border-radius: 999px; background: #fff4e5; color: #8a4b00; border: 1px solid #f5c07a; margin-left: .3rem; }
  .ok { color: #1b5e20; } .bad { color: #b00020; }
  .callout { border-left: 4px solid #1f6feb; background: #f3f8ff; padding: .6rem 1rem; border-radius: 4px; }
  .callout.error { border-left-color: #d93025; background: #fdf3f2; }
  .actions { display: flex; flex-wrap: wrap; gap: .75rem; margin: 1rem 0; }
  .actions form { margin: 0; }
  button { font-size: 1rem; padding: .6rem 1.1rem; border-radius: 8px; border: 1px solid #c6cbd1; background: #fff; cursor: pointer; }
  button.primary { background: #1f6feb; border-color: #1f6feb; color: #fff; }
  dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: .5rem 0; }
  dl.kv dt { font-weight: 600; } dl.kv dd { margin: 0; }
  ol.steps li { margin: .2rem 0; }
`;

/** A complete page around `body` (already HTML) in the demo's style; `title` is escaped here. */
export function page(title: string, body: string): string {
  return layoutPage(title, body, STYLE);
}

/** An HTML response with flowgate's page headers. */
export { htmlResponse } from '../../http/responses.js';

/** A 303 to `location` that no cache keeps (POST/redirect/GET). */
export function seeOther(location: string, headers: Readonly<Record<string, string>> = {}): Response {
  return new Response(null, {
    status: 303,
    headers: { Location: location, 'Cache-Control': 'no-store', 'Referrer-Policy': 'same-origin', ...headers },
  });
}

/** A one-button form (no JavaScript needed). */
export function buttonForm(action: string, label: string, primary = false): string {
  return `<form method="post" action="${esc(action)}"><button type="submit"${primary ? ' class="primary"' : ''}>${esc(label)}</button></form>`;
}

/** A definition list of key → already-escaped HTML. */
export function keyValues(rows: ReadonlyArray<readonly [string, string]>): string {
  return `<dl class="kv">${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>`;
}
