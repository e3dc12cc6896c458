// Reads a Markdown page the way the site does (VitePress's own Markdown renderer, so heading
// ids are VitePress's slugs, `{#custom}` ids included) and returns what the checks need: its
// code blocks with their markers, its links and images, its heading ids and its expected lines.
import { readFileSync } from 'node:fs';
import { createMarkdownRenderer } from 'vitepress';
import { DOCS } from './pages.js';

/** TypeScript under another language name: refused, a ```ts block is checked and these would not be. */
const UNCHECKED_TS = new Set(['typescript', 'tsx', 'mts', 'cts']);
const MARKER = /^<!--\s*(prelude|app|expect):\s*(.*?)\s*-->$/;
const ANY_MARKER = /<!--\s*(prelude|app|expect):\s*(.*?)\s*-->/g;

let renderer;
async function markdown() {
  renderer ??= await createMarkdownRenderer(DOCS, {}, '/');
  return renderer;
}

/** GitHub's heading ids (for the README as GitHub shows it): lowercase, punctuation dropped, spaces to `-`. */
function githubSlug(text, seen) {
  const base = text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
  const n = seen.get(base) ?? 0;
  seen.set(base, n + 1);
  return n === 0 ? base : `${base}-${n}`;
}

const hrefOf = (html, attr) =>
  [...html.matchAll(new RegExp(`<(?:a|img)\\b[^>]*\\s${attr}\\s*=\\s*["']([^"']+)["']`, 'gi'))].map((m) => m[1]);

/**
 * @param {string} file absolute path of the page
 * @param {{ slugs?: 'vitepress' | 'github' }} [options]
 * @returns {Promise<{
 *   ids: Set<string>,
 *   blocks: { line: number, end: number, lang: string, code: string, prelude?: string, app?: string }[],
 *   links: { line: number, href: string, image: boolean }[],
 *   expects: { line: number, text: string }[],
 *   problems: { line: number, message: string }[],
 * }>} lines are 1-based; a block spans its fences' lines, `line` to `end`
 */
export async function readPage(file, { slugs = 'vitepress' } = {}) {
  const source = readFileSync(file, 'utf8');
  const md = await markdown();
  const tokens = md.parse(source, { path: file, relativePath: file, cleanUrls: false });
  const ids = new Set();
  const blocks = [];
  const links = [];
  const expects = [];
  const problems = [];
  const seen = new Map();
  /** Lines of HTML comments that a block consumed as its marker. */
  const usedMarkers = new Set();
  /** The line of the last token that had one (table cells' and inline tokens' have none). */
  let at = 1;

  const walk = (list) => {
    for (let i = 0; i < list.length; i++) {
      const t = list[i];
      if (t.map) at = t.map[0] + 1;
      if (t.type === 'heading_open') {
        const inline = list[i + 1];
        if (slugs === 'github') {
          const text = inline.children
            .filter((c) => c.type === 'text' || c.type === 'code_inline')
            .map((c) => c.content)
            .join('');
          ids.add(githubSlug(text, seen));
        } else if (t.attrGet('id')) ids.add(t.attrGet('id'));
      }
      if (t.type === 'fence') {
        const lang = t.info.trim().split(/[\s{[]/)[0];
        const block = { line: at, end: t.map[1], lang, code: t.content };
        const prev = list[i - 1];
        const marker = prev?.type === 'html_block' && prev.map?.[1] === t.map[0] && MARKER.exec(prev.content.trim());
        if (marker && marker[1] !== 'expect') {
          usedMarkers.add(prev.map[0] + 1);
          if (lang === 'ts') block[marker[1]] = marker[2];
          else
            problems.push({
              line: at,
              message: `a <!-- ${marker[1]}: --> marker on a \`${lang}\` block (only \`ts\` blocks take one)`,
            });
        }
        if (UNCHECKED_TS.has(lang))
          problems.push({
            line: at,
            message: `a \`${lang}\` block: write TypeScript as \`ts\` (checked; there is no opt-out)`,
          });
        blocks.push(block);
      }
      if (t.type === 'link_open' && !t.attrGet('class')?.includes('header-anchor'))
        links.push({ line: at, href: t.attrGet('href'), image: false });
      if (t.type === 'image') links.push({ line: at, href: t.attrGet('src'), image: true });
      if (t.type === 'html_block' || t.type === 'html_inline') {
        for (const [, id] of t.content.matchAll(/<a\b[^>]*\sid\s*=\s*["']([^"']+)["']/gi)) ids.add(id);
        for (const href of hrefOf(t.content, 'href')) links.push({ line: at, href, image: false });
        for (const src of hrefOf(t.content, 'src')) links.push({ line: at, href: src, image: true });
      }
      if (t.children) walk(t.children);
    }
  };
  walk(tokens);

  // Markers are HTML comments: found in the text (outside code blocks), wherever they are.
  const fenced = new Set(blocks.flatMap((b) => Array.from({ length: b.end - b.line + 1 }, (_, k) => b.line + k)));
  source.split('\n').forEach((text, index) => {
    const line = index + 1;
    if (fenced.has(line)) return;
    for (const [, kind, value] of text.matchAll(ANY_MARKER)) {
      if (kind === 'expect') expects.push({ line, text: value });
      else if (!usedMarkers.has(line))
        problems.push({ line, message: `<!-- ${kind}: ${value} --> is not on the line just before a \`ts\` block` });
    }
  });
  return { ids, blocks, links, expects, problems };
}
