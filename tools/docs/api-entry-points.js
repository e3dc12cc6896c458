// The packages' entry points, as an app imports them, and the source file TypeDoc documents each
// from. typedoc.json lists the same files; tools/docs/typedoc-plugin.js names each module after
// its import path, and the site's sidebar lists one API page per entry, in this order.
export const API_ENTRY_POINTS = [
  { name: 'redurable', source: 'libs/redurable/src/index.ts' },
  { name: 'redurable/workflow', source: 'libs/redurable/src/workflow/index.ts' },
  { name: 'redurable/testing', source: 'libs/redurable/src/testing/index.ts' },
  { name: 'redurable/health', source: 'libs/redurable/src/nest/health.ts' },
  { name: 'redurable-console', source: 'libs/redurable-console/src/index.ts' },
];

/** The page TypeDoc writes for an entry point (flattenOutputFiles), relative to docs/reference/api/, without `.md`. */
export const apiPageOf = (name) => name.replace(/\//g, '.');
