// Checks the links and images of the pages: every relative link's target exists and, with a
// `#anchor`, has that heading (VitePress's ids for pages of the site, GitHub's for other
// Markdown files such as the README). A page of the site links to other pages by relative `.md`
// path and stays inside docs/; an image is a file next to the page or under docs/public/
// (written `/screenshots/x.png`). The README links into the site by relative path
// (`docs/concepts/sagas.md#...`).
import { existsSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { readPage } from './markdown.js';
import { API_DIR, DOCS, ROOT } from './pages.js';

const EXTERNAL = /^([a-z][a-z0-9+.-]*:|\/\/)/i;
const PUBLIC = join(DOCS, 'public');

/**
 * @param {Map<string, { ids: Set<string>, links: { line: number, href: string, image: boolean }[] }>} pages
 *   the pages read, by path relative to the repository
 * @returns {Promise<{ links: number, problems: { where: string, message: string }[] }>}
 */
export async function checkLinks(pages) {
  const problems = [];
  const others = new Map();
  /** The heading ids of a Markdown file, read once (pages already read come from `pages`). */
  const idsOf = async (rel) => {
    if (pages.has(rel)) return pages.get(rel).ids;
    if (!others.has(rel)) {
      const inSite = rel.startsWith('docs/');
      others.set(rel, (await readPage(join(ROOT, rel), { slugs: inSite ? 'vitepress' : 'github' })).ids);
    }
    return others.get(rel);
  };
  const apiBuilt = existsSync(join(ROOT, API_DIR, 'index.md'));
  let count = 0;

  for (const [rel, page] of pages) {
    const inSite = rel.startsWith('docs/');
    for (const { line, href, image } of page.links) {
      if (!href || EXTERNAL.test(href)) continue;
      count++;
      const fail = (message) => problems.push({ where: `${rel}:${line}`, message: `${href}: ${message}` });
      const hash = href.indexOf('#');
      const path = decodeURI(hash < 0 ? href : href.slice(0, hash));
      const anchor = hash < 0 ? undefined : decodeURIComponent(href.slice(hash + 1));
      if (!path) {
        if (anchor !== undefined && !page.ids.has(anchor)) fail(`no heading #${anchor} on this page`);
        continue;
      }

      let target;
      if (path.startsWith('/')) {
        if (!inSite) target = join(ROOT, path);
        else if (existsSync(join(PUBLIC, path)))
          continue; // a file of docs/public (an image, a download)
        else {
          fail(
            image
              ? `no such file under docs/public/`
              : 'link to pages by relative path (`../concepts/sagas.md`); `/...` is for files of docs/public/',
          );
          continue;
        }
      } else target = resolve(dirname(join(ROOT, rel)), path);
      const targetRel = relative(ROOT, target);

      if (inSite && !target.startsWith(`${DOCS}/`)) {
        fail('leads out of docs/: the site has no such page (link to the site, or to the repository by URL)');
        continue;
      }
      if (targetRel.startsWith(API_DIR) && !apiBuilt) {
        fail(`the API reference is not generated: run \`npm run docs:api\` (or docs:build) first`);
        continue;
      }
      if (!existsSync(target)) {
        fail('no such file');
        continue;
      }
      if (image) continue;
      if (inSite && !target.endsWith('.md')) {
        fail('link to a page by its `.md` file');
        continue;
      }
      if (anchor === undefined) continue;
      if (!target.endsWith('.md') || statSync(target).isDirectory()) {
        fail('an anchor on something that is not a Markdown page');
        continue;
      }
      if (!(await idsOf(targetRel)).has(anchor)) fail(`${targetRel} has no heading #${anchor}`);
    }
  }
  return { links: count, problems };
}
