import { afterAll } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * Compile-time checks: a source file using the public API is compiled with the TypeScript
 * compiler (against the built `redurable` package, as an app compiles it); every line marked
 * `// must not compile` must have an error, and no other line may. The file lives in a
 * temporary folder under this one, so `redurable` resolves through the workspace link.
 */
const dir = mkdtempSync(join(fileURLToPath(new URL('.', import.meta.url)), '.tmp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The errors of compiling `source`, by line. */
export function compile(source: string): { line: number; message: string }[] {
  const file = join(dir, `case-${Math.random().toString(36).slice(2)}.ts`);
  writeFileSync(file, source);
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    experimentalDecorators: true,
    types: [],
  });
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file?.fileName === file)
    .map((d) => ({
      line: d.file!.getLineAndCharacterOfPosition(d.start ?? 0).line + 1,
      message: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
    }));
}

/** The 1-based lines of `source` marked `// must not compile`. */
export const marked = (source: string) =>
  source.split('\n').flatMap((l, i) => (l.includes('// must not compile') ? [i + 1] : []));
