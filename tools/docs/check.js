// `npm run docs:check` (after `npm run build` and `npm run docs:build`): checks the README and
// every page under docs/ (the generated API reference aside) as tools/docs/CONVENTIONS.md says:
// the pages of its table exist and no other; every ```ts block compiles (snippets.js); every
// relative link, anchor and image resolves (links.js); the getting-started example runs and
// prints what the page expects (getting-started.js). Exits 1 with each problem as `file:line`.
//
//   node tools/docs/check.js [--skip-example] [file.md ...]
//
// Files narrow the check to those pages (links into other pages are still checked); the
// example runs when docs/getting-started.md is among them, unless --skip-example.
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { API_ENTRY_POINTS, apiPageOf } from './api-entry-points.js';
import { runGettingStarted } from './getting-started.js';
import { checkLinks } from './links.js';
import { readPage } from './markdown.js';
import { API_DIR, DOCS, readPages, ROOT } from './pages.js';
import { compileSnippets } from './snippets.js';

const GETTING_STARTED = 'docs/getting-started.md';
const args = process.argv.slice(2);
const skipExample = args.includes('--skip-example');
const only = args.filter((a) => !a.startsWith('--')).map((a) => relative(ROOT, join(process.cwd(), a)));

const problems = [];
const report = [];
const log = (line) => console.log(line);
const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

/** The Markdown pages under docs/: dot folders (.vitepress, .snippets), public/ and the API reference left out. */
function sitePages(dir = DOCS) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    const rel = relative(ROOT, path);
    if (e.name.startsWith('.') || e.name === 'node_modules' || rel === 'docs/public' || `${rel}/` === API_DIR)
      return [];
    if (e.isDirectory()) return sitePages(path);
    return e.name.endsWith('.md') ? [rel] : [];
  });
}

// 1. The pages: those of the table, and only those.
const table = readPages().map((p) => p.path);
const found = sitePages();
for (const path of table)
  if (!found.includes(path))
    problems.push({ where: path, message: 'a page of the table in tools/docs/CONVENTIONS.md is missing' });
for (const path of found)
  if (!table.includes(path))
    problems.push({
      where: path,
      message: 'not in the table of tools/docs/CONVENTIONS.md (so not in the sidebar): add it there',
    });

// The API reference: one generated page per entry point (the sidebar links them).
if (!existsSync(join(ROOT, API_DIR, 'index.md')))
  problems.push({ where: API_DIR, message: 'not generated: run `npm run docs:build` (or `npm run docs:api`) first' });
else
  for (const e of API_ENTRY_POINTS)
    if (!existsSync(join(ROOT, API_DIR, `${apiPageOf(e.name)}.md`)))
      problems.push({
        where: `${API_DIR}${apiPageOf(e.name)}.md`,
        message: `TypeDoc wrote no page for ${e.name}: see typedoc.json`,
      });

// 2. Read them (the README as GitHub shows it).
let began = Date.now();
const files = only.length > 0 ? only : ['README.md', ...found];
const pages = new Map();
for (const rel of files) {
  const page = await readPage(join(ROOT, rel), { slugs: rel.startsWith('docs/') ? 'vitepress' : 'github' });
  pages.set(rel, { rel, ...page });
  for (const p of page.problems) problems.push({ where: `${rel}:${p.line}`, message: p.message });
  if (rel !== GETTING_STARTED) {
    for (const b of page.blocks.filter((b) => b.app))
      problems.push({ where: `${rel}:${b.line}`, message: `<!-- app: --> blocks belong in ${GETTING_STARTED} only` });
    for (const e of page.expects)
      problems.push({ where: `${rel}:${e.line}`, message: `<!-- expect: --> lines belong in ${GETTING_STARTED} only` });
  }
}
report.push(`read ${pages.size} pages in ${seconds(began)}`);

// 3. The code blocks, in one program.
began = Date.now();
const compiled = compileSnippets([...pages.values()]);
problems.push(...compiled.problems);
report.push(`compiled ${compiled.blocks} ts blocks in ${seconds(began)} (${compiled.problems.length} problems)`);

// 4. The links.
began = Date.now();
const linked = await checkLinks(pages);
problems.push(...linked.problems);
report.push(`checked ${linked.links} links and images in ${seconds(began)} (${linked.problems.length} problems)`);

// 5. The getting-started example.
if (pages.has(GETTING_STARTED) && !skipExample) {
  began = Date.now();
  const page = pages.get(GETTING_STARTED);
  if (compiled.problems.some((p) => p.where.startsWith(`${GETTING_STARTED}:`)))
    report.push(`did not run the getting-started example: its blocks do not compile`);
  else {
    log('running the getting-started example...');
    try {
      const run = await runGettingStarted(page, log);
      problems.push(...run.problems);
      report.push(`ran the getting-started example in ${seconds(began)}: ${run.summary}`);
    } catch (err) {
      problems.push({ where: GETTING_STARTED, message: `the example could not be run: ${err.stack ?? err}` });
    }
  }
} else report.push('did not run the getting-started example' + (skipExample ? ' (--skip-example)' : ''));

log(`docs:check: ${report.join('; ')}`);
if (problems.length > 0) {
  console.error(`\ndocs:check failed: ${problems.length} problem${problems.length > 1 ? 's' : ''}`);
  for (const p of problems) console.error(`${p.where}: ${p.message}`);
  process.exit(1);
}
log('docs:check passed');
process.exit(0);
