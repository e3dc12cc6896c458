/**
 * `npm run soak`: the soaks, one process each, one after the other. SOAK=transfers (money-transfer
 * sagas, soak.ts), SOAK=flow (flow control, flow-soak.ts), or SOAK=all (the default). Exits 1
 * when any of them does.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SOAKS: Record<string, string> = { transfers: './soak.js', flow: './flow-soak.js' };
const chosen = process.env.SOAK ?? 'all';
const names = chosen === 'all' ? Object.keys(SOAKS) : chosen.split(',');
const unknown = names.filter((n) => !SOAKS[n]);
if (unknown.length > 0) {
  console.error(`SOAK=${chosen}: unknown soak ${unknown.join(', ')} (choose transfers, flow or all)`);
  process.exit(2);
}

let failed = 0;
for (const name of names) {
  process.stderr.write(`\n== soak: ${name}\n`);
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(new URL(SOAKS[name], import.meta.url))], {
      stdio: 'inherit',
    });
    child.once('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
  if (code !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
