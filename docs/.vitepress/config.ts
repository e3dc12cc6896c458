/**
 * The site: VitePress over docs/. The sidebar lists the pages of the table in
 * tools/docs/CONVENTIONS.md, in its order, each under its folder's section and titled by its
 * first heading; then the API reference TypeDoc generates into docs/reference/api/ (one page
 * per entry point, tools/docs/api-entry-points.js). Dead links fail the build.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig, type DefaultTheme } from 'vitepress';
import { API_ENTRY_POINTS, apiPageOf } from '../../tools/docs/api-entry-points.js';
import { readPages, ROOT, SECTIONS, sectionOf } from '../../tools/docs/pages.js';

/** A page's title: its frontmatter `title`, else its first `# ` heading (Markdown marks dropped). */
function titleOf(path: string): string {
  const file = join(ROOT, path);
  if (!existsSync(file)) return path;
  const text = readFileSync(file, 'utf8');
  const frontmatter = /^---\n([\s\S]*?)\n---/.exec(text);
  const title =
    /^title:\s*(.+)$/m.exec(frontmatter?.[1] ?? '')?.[1] ??
    /^# (.+)$/m.exec(frontmatter ? text.slice(frontmatter[0].length) : text)?.[1] ??
    path;
  return title
    .replace(/\s*\{#[\w-]+\}$/, '')
    .replace(/[`*_]/g, '')
    .replace(/^['"]|['"]$/g, '');
}

/** The site's link of a page: `docs/concepts/sagas.md` → `/concepts/sagas`, `docs/reference/index.md` → `/reference/`. */
const linkOf = (path: string) =>
  `/${path
    .slice('docs/'.length)
    .replace(/\.md$/, '')
    .replace(/(^|\/)index$/, '$1')}`;

const pages = readPages();
const firstOf = (dir: string) => linkOf(pages.find((p) => sectionOf(p.path)?.dir === dir)!.path);

const api: DefaultTheme.SidebarItem = {
  text: 'API',
  collapsed: false,
  items: API_ENTRY_POINTS.map((e) => ({ text: e.name, link: `/reference/api/${apiPageOf(e.name)}` })),
};

const sidebar: DefaultTheme.SidebarItem[] = SECTIONS.map((section) => ({
  text: section.title,
  items: [
    ...pages.filter((p) => sectionOf(p.path) === section).map((p) => ({ text: titleOf(p.path), link: linkOf(p.path) })),
    ...(section.dir === 'reference/' ? [api] : []),
  ],
}));

export default defineConfig({
  title: 'Redurable',
  description: 'Durable execution for NestJS on Redis and BullMQ',
  lang: 'en',
  // Pages link each other by relative `.md` path; the site serves `.html` files, which any static host can.
  cleanUrls: false,
  ignoreDeadLinks: 'localhostLinks',
  lastUpdated: false,
  themeConfig: {
    nav: [
      { text: 'Guide', link: linkOf('docs/getting-started.md'), activeMatch: '^/getting-started' },
      { text: 'Concepts', link: firstOf('concepts/'), activeMatch: '^/concepts/' },
      { text: 'Guides', link: firstOf('guides/'), activeMatch: '^/guides/' },
      { text: 'Reference', link: firstOf('reference/'), activeMatch: '^/reference/' },
    ],
    sidebar,
    search: { provider: 'local' },
    outline: { level: [2, 3] },
  },
  // The `redurable` API page is one page by design (one per entry point), about 550 kB once highlighted.
  vite: { build: { chunkSizeWarningLimit: 800 } },
});
