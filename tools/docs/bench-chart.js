// Draws docs/public/diagrams/bench.svg from docs/.data/bench.json (the README's Benchmarks
// figures): horizontal bars of throughput and of a 10-step workflow's median latency, for each
// Redis mode. Run by `npm run docs:build`; the SVG is committed, so its output is stable.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DOCS } from './pages.js';

const DATA = join(DOCS, '.data', 'bench.json');
const OUT = join(DOCS, 'public', 'diagrams', 'bench.svg');

const WIDTH = 820;
const LABEL = 300; // the label column
const BAR = 400; // the longest bar
const ROW = 22;
const GAP = 6;
const COLORS = ['#3a7bd5', '#8fb3e8', '#2e9e6a', '#9a9a9a']; // by row: eager, eager off, local, raw chain

const escape = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** Counts with thousands separators; milliseconds to three significant digits, as the README prints them. */
const format = (n, unit) => (unit ? `${n.toPrecision(3)}${unit}` : n.toLocaleString('en-US'));

/** A step of 1, 2 or 5 × 10^k that rounds `max` up to a clean axis end. */
function niceMax(max) {
  const power = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((m) => m * power).find((v) => v >= max);
}

function panel(title, modes, value, unit, y) {
  const max = niceMax(Math.max(...modes.flatMap((m) => m.rows.map(value))));
  const parts = [`<text x="20" y="${y + 18}" class="title">${escape(title)}</text>`];
  y += 30;
  for (const mode of modes) {
    parts.push(`<text x="20" y="${y + 15}" class="mode">${escape(mode.name)}</text>`);
    y += ROW;
    mode.rows.forEach((row, i) => {
      const v = value(row);
      const w = Math.max(1, Math.round((v / max) * BAR));
      parts.push(
        `<text x="${LABEL - 10}" y="${y + 15}" class="label" text-anchor="end">${escape(row.label)}</text>`,
        `<rect x="${LABEL}" y="${y + 3}" width="${w}" height="${ROW - GAP}" rx="2" fill="${COLORS[i % COLORS.length]}"/>`,
        `<text x="${LABEL + w + 6}" y="${y + 15}" class="value">${format(v, unit)}</text>`,
      );
      y += ROW;
    });
    y += GAP * 2;
  }
  return { svg: parts.join('\n  '), y };
}

const data = JSON.parse(readFileSync(DATA, 'utf8'));
const top = panel(
  'Throughput: steps per second, 64 workflows in flight (higher is better)',
  data.modes,
  (r) => r.stepsPerSecond,
  '',
  10,
);
const bottom = panel(
  'Latency: a 10-step workflow, start to result, p50 (lower is better)',
  data.modes,
  (r) => r.n10[0],
  ' ms',
  top.y + 10,
);
const height = bottom.y + 30;
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-labelledby="bench-title">
  <title id="bench-title">Redurable and a raw BullMQ job chain: throughput and 10-step latency, without persistence and with AOF appendfsync always</title>
  <style>
    text { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; fill: #1f2328; }
    .title { font-size: 15px; font-weight: 600; }
    .mode { font-size: 13px; font-weight: 600; fill: #57606a; }
    .label, .value { font-size: 12.5px; }
    .note { font-size: 11.5px; fill: #57606a; }
  </style>
  <rect width="${WIDTH}" height="${height}" rx="8" fill="#ffffff"/>
  ${top.svg}
  ${bottom.svg}
  <text x="20" y="${height - 12}" class="note">${escape(`${data.environment}. From ${data.source}.`)}</text>
</svg>
`;
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, svg);
console.log(`bench-chart: wrote ${OUT.slice(DOCS.length - 4)}`);
