// A TypeDoc plugin (loaded by typedoc.json): names each module after the import path an app
// uses (`redurable/workflow`) instead of its source path, per tools/docs/api-entry-points.js.
import { relative, resolve } from 'node:path';
import { Converter, ReflectionKind } from 'typedoc';
import { API_ENTRY_POINTS } from './api-entry-points.js';

const root = resolve(import.meta.dirname, '../..');
const nameOf = new Map(API_ENTRY_POINTS.map((e) => [e.source, e.name]));

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (reflection.kind !== ReflectionKind.Module) return;
    const file = context.getSymbolFromReflection(reflection)?.declarations?.[0]?.getSourceFile().fileName;
    const source = file && relative(root, file).replace(/\\/g, '/');
    const name = source && nameOf.get(source);
    if (name) reflection.name = name;
    else app.logger.error(`${source ?? reflection.name} is not in tools/docs/api-entry-points.js`);
  });
}
