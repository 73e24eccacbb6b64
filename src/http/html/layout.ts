/**
 * The one page layout: self-contained (no external assets, nothing for the CSP to allow
 * but inline styles), readable without JavaScript.
 *
 * @module
 */
import { escapeHtml } from './escape.js';

const STYLE = `
  body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; background: #f4f5f7; color: #1c1e21; margin: 0; }
  main { max-width: 30rem; margin: 3rem auto; background: #fff; border-radius: 12px; padding: 2rem; box-shadow: 0 1px 4px rgba(0,0,0,.12); }
  h1 { font-size: 1.3rem; margin: 0 0 1rem; }
  p, li { line-height: 1.5; }
  .muted { color: #5f6b7a; font-size: .9rem; }
  .badge { display: inline-block; font-size: .75rem; padding: .1rem .45rem; border-radius: 999px; background: #fff4e5; color: #8a4b00; border: 1px solid #f5c07a; }
  .verified { background: #e8f5e9; color: #1b5e20; border-color: #8bc34a; }
  ul.scopes { padding-left: 1.2rem; }
  code { background: #f0f1f3; padding: .05rem .3rem; border-radius: 4px; word-break: break-all; }
  .actions { display: flex; gap: .75rem; margin-top: 1.5rem; }
  button { flex: 1; font-size: 1rem; padding: .65rem; border-radius: 8px; border: 1px solid #c6cbd1; background: #fff; cursor: pointer; }
  button.primary { background: #1f6feb; border-color: #1f6feb; color: #fff; }
  .error { border-left: 4px solid #d93025; padding-left: 1rem; }
`;

/**
 * A complete page around `body` (already HTML), titled with `title` (escaped here), styled
 * with `style` (flowgate's own pages by default; the demo brings its own).
 */
export function page(title: string, body: string, style: string = STYLE): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${escapeHtml(title)}</title>
<style>${style}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}
