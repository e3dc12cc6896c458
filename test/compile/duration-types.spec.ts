import { afterAll, describe, expect, test } from '@jest/globals';
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

function compile(source: string): { line: number; message: string }[] {
  const file = join(dir, `case-${Math.random().toString(36).slice(2)}.ts`);
  writeFileSync(file, source);
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
    strict: true, noEmit: true, skipLibCheck: true, experimentalDecorators: true, types: [],
  });
  return ts.getPreEmitDiagnostics(program).filter((d) => d.file?.fileName === file).map((d) => ({
    line: d.file!.getLineAndCharacterOfPosition(d.start ?? 0).line + 1,
    message: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
  }));
}

/** The 1-based lines of `source` marked `// must not compile`. */
const marked = (source: string) => source.split('\n').flatMap((l, i) => (l.includes('// must not compile') ? [i + 1] : []));

describe('typed durations', () => {
  test("'30s', '3 days', 500 compile; '3 weeks', 'soon' and a plain string do not", () => {
    const source = [
      "import { sleep, condition, proxyActivities, type Duration } from 'redurable';",
      'export async function flow(text: string): Promise<void> {',
      "  await sleep('30s');",
      "  await sleep('3 days');",
      '  await sleep(500);',
      "  await sleep('1.5h');",
      "  await sleep('250 ms');",
      "  await condition(() => true, '2 minutes');",
      "  const ok: Duration = '10 Seconds';",
      "  await sleep('3 weeks'); // must not compile",
      "  await sleep('soon'); // must not compile",
      "  await sleep(text); // must not compile",
      "  const bad: Duration = '5 fortnights'; // must not compile",
      '  void ok; void bad; void proxyActivities;',
      '}',
    ].join('\n');
    const errors = compile(source);
    expect(errors.map((e) => e.line)).toEqual(marked(source));
    expect(errors[0].message).toContain('"3 weeks"');
  });
});
