// Compiles every ```ts block of the pages, each as a module of its own, in one TypeScript
// program: strict, decorators with their metadata, NodeNext, against the built packages
// (`npm run build` first). The blocks live in memory under the repository, so `redurable`,
// `redurable/workflow`... resolve through the workspace's node_modules as an app's imports do,
// to the packages' `exports` (no internal condition). A block marked `<!-- prelude: name -->`
// is compiled after docs/.snippets/name.ts, as one module; the blocks marked
// `<!-- app: src/x.ts -->` of a page share one folder, so they import each other as `./x.js`.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { ROOT } from './pages.js';

const VIRTUAL = join(ROOT, '.docs-snippets');
const PRELUDES = 'docs/.snippets';

const OPTIONS = {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  moduleDetection: ts.ModuleDetectionKind.Force,
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2023.d.ts'],
  types: ['node'],
  strict: true,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  esModuleInterop: true,
  skipLibCheck: true,
  noEmit: true,
};

/**
 * @param {{ rel: string, blocks: { line: number, lang: string, code: string, prelude?: string, app?: string }[] }[]} pages
 * @returns {{ blocks: number, problems: { where: string, message: string }[] }}
 */
export function compileSnippets(pages) {
  const problems = [];
  const units = new Map();
  for (const page of pages) {
    const folder = join(VIRTUAL, page.rel.replace(/\.md$/, '').replace(/[^\w-]+/g, '_'));
    for (const block of page.blocks) {
      if (block.lang !== 'ts') continue;
      let prelude = '';
      if (block.prelude) {
        const file = join(ROOT, PRELUDES, `${block.prelude}.ts`);
        if (!existsSync(file)) {
          problems.push({
            where: `${page.rel}:${block.line}`,
            message: `no prelude ${PRELUDES}/${block.prelude}.ts`,
          });
          continue;
        }
        prelude = readFileSync(file, 'utf8');
        if (!prelude.endsWith('\n')) prelude += '\n';
      }
      const file = block.app
        ? join(folder, 'app', block.app.replace(/^\.\//, ''))
        : join(folder, `line-${block.line}.ts`);
      if (units.has(file)) {
        problems.push({ where: `${page.rel}:${block.line}`, message: `a second block for app file ${block.app}` });
        continue;
      }
      const preludeLines = prelude.split('\n').length - 1;
      units.set(file, { text: prelude + block.code, page, block, preludeLines });
    }
  }

  const host = ts.createCompilerHost(OPTIONS, true);
  const { fileExists, readFile, getSourceFile, directoryExists } = host;
  const inVirtual = (path) => path === VIRTUAL || path.startsWith(`${VIRTUAL}/`);
  host.getCurrentDirectory = () => ROOT;
  host.fileExists = (path) => units.has(path) || (!inVirtual(path) && fileExists.call(host, path));
  host.readFile = (path) => units.get(path)?.text ?? (inVirtual(path) ? undefined : readFile.call(host, path));
  host.directoryExists = (path) =>
    inVirtual(path) ? [...units.keys()].some((f) => f.startsWith(`${path}/`)) : directoryExists.call(host, path);
  host.getSourceFile = (path, language, ...rest) => {
    const unit = units.get(path);
    return unit
      ? ts.createSourceFile(path, unit.text, language, true)
      : getSourceFile.call(host, path, language, ...rest);
  };

  const program = ts.createProgram([...units.keys()], OPTIONS, host);
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const message = `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    const unit = d.file && units.get(d.file.fileName);
    if (!unit) {
      problems.push({ where: d.file ? relative(ROOT, d.file.fileName) : 'TypeScript', message });
      continue;
    }
    const line = d.file.getLineAndCharacterOfPosition(d.start ?? 0).line;
    const where =
      line < unit.preludeLines
        ? `${PRELUDES}/${unit.block.prelude}.ts:${line + 1} (prelude of ${unit.page.rel}:${unit.block.line})`
        : `${unit.page.rel}:${unit.block.line + 1 + line - unit.preludeLines}`;
    problems.push({ where, message: `${message} (in the block at line ${unit.block.line})` });
  }
  const byPlace = (p) => p.where.replace(/\d+/g, (n) => n.padStart(6, '0'));
  problems.sort((a, b) => byPlace(a).localeCompare(byPlace(b)));
  return { blocks: units.size, problems };
}
