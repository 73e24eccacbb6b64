/**
 * The HTML of `flowgate report` (docs/replay.md, "Reports"): one self-contained page per
 * stream (the statechart as inline SVG with the path taken marked, the timeline beside it)
 * and an index page. No network asset, no script: one inline `<style>` whose SHA-256 is the
 * only style source the page's Content-Security-Policy allows (CSP Level 3 §2.3.2 hashes);
 * everything from the log is HTML-escaped.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { escapeHtml as esc } from '../../http/html/escape.js';
import { personalText } from '../../replay/fields.js';
import { fieldsText, transitionText } from '../../replay/render.js';
import type { Timeline } from '../../replay/timeline.js';

const CSS = `
:root { color-scheme: light; --ink: #1f2933; --muted: #61707d; --line: #d9e0e6; --visit: #dbeafe; --visit-ink: #1d4ed8; --now: #fde68a; --now-ink: #92400e; --bad: #b91c1c; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink); background: #f7f9fb; }
header { padding: 16px 24px 8px; background: #fff; border-bottom: 1px solid var(--line); }
h1 { font-size: 18px; margin: 0 0 4px; font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; word-break: break-all; }
h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 0 0 8px; }
.meta { color: var(--muted); margin: 0; }
.checks { margin: 6px 0 0; }
.ok { color: #15803d; } .bad { color: var(--bad); font-weight: 600; }
main { display: grid; grid-template-columns: minmax(420px, 46%) 1fr; gap: 16px; padding: 16px 24px; align-items: start; }
main.single { grid-template-columns: 1fr; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; overflow: auto; }
.chart svg { width: 100%; height: auto; }
.chart .node path, .chart .node polygon, .chart .node ellipse { fill: #fff; stroke: #9aa5b1; }
.chart .cluster polygon, .chart .cluster path { fill: #fbfcfd; stroke: #9aa5b1; }
.chart text { fill: #52606d; }
.chart .edge path { stroke: #c3ccd5; } .chart .edge polygon { fill: #c3ccd5; stroke: #c3ccd5; }
.chart .node.visited path, .chart .node.visited polygon { fill: var(--visit); stroke: var(--visit-ink); stroke-width: 1.5px; }
.chart .cluster.visited polygon, .chart .cluster.visited path { fill: #eff6ff; stroke: var(--visit-ink); }
.chart .visited > text { fill: var(--visit-ink); font-weight: 600; }
.chart .node.current path, .chart .node.current polygon { fill: var(--now); stroke: var(--now-ink); stroke-width: 2.5px; }
.chart .node.current > text { fill: var(--now-ink); }
.chart .edge.taken path { stroke: var(--visit-ink); stroke-width: 2px; } .chart .edge.taken polygon { fill: var(--visit-ink); stroke: var(--visit-ink); }
.chart .edge.taken text { fill: var(--visit-ink); font-weight: 600; }
.chart .start ellipse { fill: var(--ink); stroke: var(--ink); }
.legend { color: var(--muted); font-size: 12px; margin: 8px 0 0; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; vertical-align: -1px; margin: 0 4px 0 10px; border: 1px solid; }
.swatch.visited { background: var(--visit); border-color: var(--visit-ink); } .swatch.current { background: var(--now); border-color: var(--now-ink); }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px; }
tr.event td { border-top: 1px solid var(--line); padding-bottom: 1px; }
tr.fields td { padding-top: 0; color: #3e4c59; }
th { color: var(--muted); font-weight: 600; font-size: 12px; }
td.num { color: var(--muted); text-align: right; }
.nowrap { white-space: nowrap; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12px; }
.fields { overflow-wrap: anywhere; }
.erased { color: var(--bad); }
tr.illegal td { background: #fef2f2; }
a { color: var(--visit-ink); }
footer { color: var(--muted); font-size: 12px; padding: 0 24px 24px; }
`;

/** The Content-Security-Policy of a report page: nothing but its own inline style. */
export function reportCsp(css: string = CSS): string {
  const hash = createHash('sha256').update(css).digest('base64');
  return `default-src 'none'; style-src 'sha256-${hash}'; img-src data:; base-uri 'none'; form-action 'none'`;
}

function shell(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(reportCsp())}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23);
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC');
}

/** One stream's report page: `svg` is its statechart with the path marked. */
export function streamPage(timeline: Timeline, svg: string, options: { generatedAt: number; index?: string }): string {
  const entries = timeline.entries;
  const machine = timeline.machine ? `${timeline.machine.id} v${timeline.machine.version}` : 'unknown machine';
  const illegal = entries.filter((e) => !e.legal).length;
  const drift = entries.filter((e) => e.drift).length;
  const erased = entries.some((e) => Object.values(e.fields.personal).some((p) => p.status === 'erased'));
  const checks = [
    illegal === 0 ? '<span class="ok">✓ every event is legal in its state</span>' : `<span class="bad">✗ ${illegal} event(s) the machine refuses</span>`,
    drift === 0 ? '<span class="ok">✓ recorded states agree with the re-fold</span>' : `<span class="bad">≠ ${drift} event(s) whose recorded states differ</span>`,
    erased ? '<span class="erased">personal data erased (flowgate forget)</span>' : '',
  ].filter(Boolean);
  const rows = entries
    .map((e) => {
      const personal = Object.entries(e.fields.personal)
        .map(([k, v]) => `<span class="${v.status === 'erased' ? 'erased' : ''}">${esc(k)}=${esc(personalText(v))}</span>`)
        .join(' ');
      const plain = fieldsText({ plain: e.fields.plain, secret: e.fields.secret, personal: {} });
      return `<tr id="v${e.version}" class="event${e.legal ? '' : ' illegal'}" data-version="${e.version}" data-before="${esc(e.before)}" data-after="${esc(e.after ?? '')}">
<td class="num">${e.version}</td><td class="nowrap mono">${esc(clock(e.at))}</td><td><strong>${esc(e.type)}</strong></td><td>${esc(transitionText(e))}</td></tr>
<tr class="fields" data-fields="${e.version}"><td></td><td colspan="3" class="fields mono">${esc(plain)}${personal ? ` ${personal}` : ''}</td></tr>`;
    })
    .join('\n');
  const first = entries[0];
  const last = entries.at(-1);
  const body = `<header>
<h1>${esc(timeline.streamId)}</h1>
<p class="meta">${esc(machine)} · ${entries.length} event(s) · now <strong>${esc(timeline.finalState ?? 'unknown')}</strong>${first && last ? ` · ${esc(iso(first.at))} → ${esc(iso(last.at))}` : ''}${options.index ? ` · <a href="${esc(options.index)}">all reports</a>` : ''}</p>
<p class="checks">${checks.join(' · ')}</p>
</header>
<main>
<section class="chart" aria-label="statechart"><h2>Statechart</h2>
${svg}
<p class="legend">generated from the machine definition;<span class="swatch visited"></span>visited<span class="swatch current"></span>now · bold arrows: transitions taken (×count)</p>
</section>
<section class="timeline" aria-label="timeline"><h2>Timeline</h2>
<table><thead><tr><th>#</th><th>time (UTC)</th><th>event</th><th>state before → after</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</section>
</main>
<footer>flowgate report · generated ${esc(iso(options.generatedAt))} · sealed secrets are named, never opened · personal data shown as stored: opened with its subject key, or (erased)</footer>`;
  return shell(`flowgate report: ${timeline.streamId}`, body);
}

/** One row of the index page. */
export interface IndexEntry {
  readonly streamId: string;
  readonly href: string;
  readonly state: string;
  readonly clientId: string;
  readonly events: number;
  readonly firstAt: number;
  readonly lastAt: number;
}

/** The index page of `flowgate report --all`. */
export function indexPage(entries: readonly IndexEntry[], options: { generatedAt: number; since: number | null }): string {
  const rows = entries
    .map(
      (e) =>
        `<tr><td class="mono"><a href="${esc(e.href)}">${esc(e.streamId)}</a></td><td>${esc(e.state)}</td><td class="mono">${esc(e.clientId)}</td><td class="num">${e.events}</td><td class="nowrap mono">${esc(iso(e.firstAt))}</td><td class="nowrap mono">${esc(iso(e.lastAt))}</td></tr>`,
    )
    .join('\n');
  const body = `<header>
<h1>flowgate reports</h1>
<p class="meta">${entries.length} stream(s)${options.since === null ? '' : ` active since ${esc(iso(options.since))}`} · generated ${esc(iso(options.generatedAt))}</p>
</header>
<main class="single">
<section class="timeline" aria-label="streams"><table><thead><tr><th>stream</th><th>state</th><th>client</th><th>events</th><th>first</th><th>last</th></tr></thead>
<tbody>
${rows}
</tbody></table></section>
</main>`;
  return shell('flowgate reports', body);
}
