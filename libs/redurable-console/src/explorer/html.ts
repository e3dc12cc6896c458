/** Escapes text for HTML content and attribute values. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** Where the explorer's parts are, with the app's global prefix. */
export interface ExplorerPaths {
  /** The pages, for example `/workflows`. */
  explorer: string;
  /** The JSON API, `/api/workflows`. */
  api: string;
  /** Bull Board. */
  board: string;
  /** The schedule pages, for example `/schedules`. */
  schedules?: string;
}

export function workflowHref(paths: ExplorerPaths, workflowId: string): string {
  return `${paths.explorer}/${encodeURIComponent(workflowId)}`;
}

export function time(value?: Date | number | string): string {
  return value === undefined ? '' : new Date(value).toISOString().replace('T', ' ').replace('Z', '');
}

/** Search attributes as `name=value` pairs (datetimes in ISO 8601, strings quoted), as the CLI prints them. */
export function attributesText(attributes: Record<string, unknown>): string {
  return Object.entries(attributes)
    .map(([name, v]) => `${name}=${v instanceof Date ? v.toISOString() : JSON.stringify(v)}`)
    .join(' ');
}

export function statusBadge(status: string): string {
  return `<span class="status status-${esc(status)}">${esc(status.replace('_', ' '))}</span>`;
}

/** The page around `body`: title, navigation, the shipped stylesheet and script (no CDN). */
export function layout(
  paths: ExplorerPaths,
  title: string,
  heading: string,
  body: string,
  data: Record<string, string>,
): string {
  const attrs = Object.entries(data)
    .map(([k, v]) => ` data-${k}="${esc(v)}"`)
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<link rel="stylesheet" href="${esc(paths.explorer)}/assets/explorer.css">
</head>
<body${attrs}>
<header><a class="brand" href="${esc(paths.explorer)}">${esc(heading)}</a><nav><a href="${esc(paths.explorer)}">Workflows</a>${paths.schedules ? `<a href="${esc(paths.schedules)}">Schedules</a>` : ''}<a href="${esc(paths.board)}">Queues (Bull Board)</a></nav></header>
<main id="content">
${body}
</main>
<script src="${esc(paths.explorer)}/assets/explorer.js" defer></script>
</body>
</html>
`;
}

/** Joins route parts into one absolute path (no doubled or trailing slash). */
export function joined(...parts: string[]): string {
  return `/${parts.join('/')}`.replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1');
}

/**
 * The console's paths under the app's global prefix: the explorer's pages, its API, Bull Board
 * and the schedule pages (the routes as RedurableConsoleModule mounts them).
 */
export function consolePaths(
  globalPrefix: string,
  routes: { explorer: string; schedules: string; board: string },
): ExplorerPaths {
  return {
    explorer: joined(globalPrefix, routes.explorer),
    api: joined(globalPrefix, 'api/workflows'),
    board: joined(globalPrefix, routes.board),
    schedules: joined(globalPrefix, routes.schedules),
  };
}
