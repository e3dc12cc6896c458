// Copies the Lua scripts next to the compiled JavaScript (dist/store/lua). The build empties dist/
// first, so a renamed script never leaves a stale copy behind to be loaded under its old key count.
import { cpSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
cpSync(join(root, 'src', 'store', 'lua'), join(root, 'dist', 'store', 'lua'), {
  recursive: true,
  filter: (p) => !p.endsWith('.ts'),
});
