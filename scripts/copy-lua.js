// Copies the library's Lua scripts next to the compiled JavaScript.
import { cpSync } from 'node:fs';
cpSync('libs/redurable/src/lua', 'dist/libs/redurable/src/lua', { recursive: true, filter: (p) => !p.endsWith('.ts') });
