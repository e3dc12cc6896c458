// Copies the library's Lua scripts next to the compiled JavaScript, replacing any old copies
// (a renamed script left behind would be loaded under its old key count).
import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const from = 'libs/redurable/src/lua';
const to = 'dist/libs/redurable/src/lua';
if (existsSync(to)) {
  for (const f of readdirSync(to)) if (f.endsWith('.lua')) rmSync(join(to, f));
  rmSync(join(to, 'includes'), { recursive: true, force: true });
}
cpSync(from, to, { recursive: true, filter: (p) => !p.endsWith('.ts') });
