// The site's pages: the table in tools/docs/CONVENTIONS.md, in its order. The sidebar
// (docs/.vitepress/config.ts) lists them from here and `npm run docs:check` requires each to
// exist and every page under docs/ to be one of them, so the table stays the one list.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DOCS = join(ROOT, 'docs');
/** The generated API reference (TypeDoc's output), relative to the repository. */
export const API_DIR = 'docs/reference/api/';

/** The sidebar's sections, by the folder a page lives in. */
export const SECTIONS = [
  { dir: '', title: 'Guide' },
  { dir: 'concepts/', title: 'Concepts' },
  { dir: 'guides/', title: 'Guides' },
  { dir: 'reference/', title: 'Reference' },
];

/**
 * The table's rows: `path` relative to the repository (`docs/concepts/sagas.md`), `what` the
 * page's summary. The generated API folder is left out (see api-entry-points.js).
 */
export function readPages() {
  const text = readFileSync(join(ROOT, 'tools/docs/CONVENTIONS.md'), 'utf8');
  const rows = [...text.matchAll(/^\| `(docs\/[^`]+)` \| (.+?) \|$/gm)].map(([, path, what]) => ({ path, what }));
  if (rows.length === 0) throw new Error('tools/docs/CONVENTIONS.md: no page table found');
  return rows.filter((r) => r.path.endsWith('.md'));
}

/** The section a page belongs in (by its folder under docs/). */
export function sectionOf(path) {
  const rel = path.slice('docs/'.length);
  const dir = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/') + 1) : '';
  return SECTIONS.find((s) => s.dir === dir);
}
