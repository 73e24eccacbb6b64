/**
 * The fenced code blocks of a Markdown file (CommonMark §4.5: backtick or tilde fences of
 * three or more, indented up to three spaces or inside list items), each with its language,
 * its first content line, and the `<!-- sample: … -->` directive written on the last
 * non-blank line before it (docs/contributing-docs.md).
 */

/** One fenced code block. */
export interface CodeBlock {
  /** The Markdown file, relative to the repository. */
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The first word of the info string, lower-cased ('' when none). */
  readonly lang: string;
  /** The content, with the fence's indentation removed. */
  readonly content: string;
  /** The value of a `<!-- sample: value -->` comment right before the block. */
  readonly directive: string | undefined;
}

const DIRECTIVE = /^\s*<!--\s*sample:\s*(.*?)\s*-->\s*$/;

/** Every fenced code block of `markdown`, in order. */
export function codeBlocks(file: string, markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  let lastNonBlank = '';
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/.exec(lines[i]!);
    if (!open) {
      if (lines[i]!.trim() !== '') lastNonBlank = lines[i]!;
      continue;
    }
    const indent = open[1]!.length;
    const fence = open[2]!;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = /^(\s*)(`{3,}|~{3,})\s*$/.exec(lines[j]!);
      if (close && close[2]![0] === fence[0] && close[2]!.length >= fence.length) break;
      const text = lines[j]!;
      const leading = text.length - text.trimStart().length;
      body.push(text.slice(Math.min(indent, leading)));
    }
    blocks.push({
      file,
      line: i + 1,
      lang: open[3]!.toLowerCase(),
      content: body.join('\n'),
      directive: DIRECTIVE.exec(lastNonBlank)?.[1],
    });
    lastNonBlank = '';
    i = j;
  }
  return blocks;
}

/** `#region name` … `#endregion` markers in a source file (any comment syntax); undefined when absent. */
export function region(source: string, name: string): string | undefined {
  const lines = source.split('\n');
  const start = lines.findIndex((l) => new RegExp(`#region\\s+${escape(name)}\\s*(-->)?\\s*$`).test(l));
  if (start < 0) return undefined;
  const end = lines.findIndex((l, i) => i > start && new RegExp(`#endregion(\\s+${escape(name)})?\\s*(-->)?\\s*$`).test(l));
  if (end < 0) return undefined;
  return dedent(lines.slice(start + 1, end)).join('\n');
}

/** Lines without their common leading whitespace and trailing whitespace. */
export function dedent(lines: readonly string[]): string[] {
  const widths = lines.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length);
  const cut = widths.length > 0 ? Math.min(...widths) : 0;
  return lines.map((l) => l.slice(cut).trimEnd());
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
