import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InvalidScheduleError } from '../core/errors/schedule.errors.js';
import type {
  ScheduleDescription,
  ScheduleOptions,
  ScheduleSpec,
  ScheduleUpdate,
} from '../core/schedules/schedule-options.js';
import { UsageError } from './connect.js';
import { json, out, withSession, type GlobalFlags } from './workflow-commands.js';

/** The fields a schedule file may have, by object (a typo is an error, not a field silently ignored). */
const FIELDS = {
  '': ['scheduleId', 'spec', 'action', 'policies', 'paused'],
  spec: ['cron', 'timezone', 'every', 'startAt', 'endAt'],
  action: ['workflow', 'args', 'taskQueue', 'workflowId', 'workflowExecutionTimeout', 'workflowRunTimeout'],
  policies: ['overlap', 'catchupWindow', 'catchup'],
} as const;

type JsonObject = Record<string, unknown>;
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The JSON object in `--file`; a usage error (exit 2) when it cannot be read or is not one. */
function readObject(path: string): JsonObject {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`--file ${path}: cannot read it (${(err as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--file ${path} is not JSON: ${(err as Error).message}`);
  }
  if (!isObject(value))
    throw new UsageError(
      `--file ${path} must hold a JSON object: { "scheduleId", "spec": { "cron" | "every", ... }, "action": { "workflow": "<type name>", "args": [...] }, "policies"? }`,
    );
  return value;
}

/**
 * Checks the file's fields (InvalidScheduleError naming an unknown one or a value JSON cannot
 * give as the library takes it) and turns it into what `client.schedule` takes: the workflow by
 * type name, `startAt`/`endAt` as Dates from ISO 8601 text. The library checks the rest.
 */
function scheduleFields(file: JsonObject, scheduleId: string, top: readonly string[]): JsonObject {
  const bad = (problem: string) => new InvalidScheduleError(scheduleId, problem);
  const unknown = (obj: JsonObject, path: string, allowed: readonly string[]) => {
    const extra = Object.keys(obj).find((k) => !allowed.includes(k));
    if (extra !== undefined)
      throw bad(
        `unknown field ${path}${extra} (${path ? `${path.slice(0, -1)} takes` : 'a schedule file has'} ${allowed.join(', ')})`,
      );
  };
  unknown(file, '', top);
  for (const part of ['spec', 'action', 'policies'] as const) {
    const value = file[part];
    if (value === undefined) continue;
    if (!isObject(value)) throw bad(`${part} must be a JSON object`);
    unknown(value, `${part}.`, FIELDS[part]);
  }
  const out: JsonObject = { ...file };
  if (isObject(file.spec)) {
    const spec: JsonObject = { ...file.spec };
    for (const name of ['startAt', 'endAt'] as const)
      if (typeof spec[name] === 'string') spec[name] = new Date(spec[name]); // an invalid one: the library names it
    out.spec = spec;
  }
  if (isObject(file.action) && file.action.workflow !== undefined && typeof file.action.workflow !== 'string')
    throw bad('action.workflow must be the workflow type name (a string)');
  if (file.paused !== undefined && typeof file.paused !== 'boolean' && typeof file.paused !== 'string')
    throw bad('paused must be true, false, or a note saying why (a string)');
  return out;
}

const nextFire = (d: ScheduleDescription): string =>
  d.paused ? ' (paused)' : d.nextFireTimes[0] ? `: next fire ${d.nextFireTimes[0].toISOString()}` : ': no fire to come';

/**
 * `redurable schedule create --file <json>` and `schedule update <scheduleId> --file <json>`: a
 * schedule (or its changes) from a JSON file with the fields of `client.schedule.create()`
 * (`update`: those of `client.schedule.update()`), the workflow given by its type name. A bad file
 * is a usage error (exit 2) and nothing is written.
 */
export function addScheduleFileCommands(schedule: Command): void {
  schedule
    .command('create')
    .description('creates a schedule from a JSON file ({ scheduleId, spec, action, policies?, paused? })')
    .requiredOption('--file <path>', 'the schedule, as JSON')
    .action(
      withSession(async ({ client }, flags) => {
        const path = (flags as GlobalFlags & { file: string }).file;
        const file = readObject(path);
        const scheduleId = typeof file.scheduleId === 'string' ? file.scheduleId : String(file.scheduleId);
        const options = scheduleFields(file, scheduleId, FIELDS['']) as unknown as ScheduleOptions;
        const d = await client.schedule.create(options);
        if (flags.json) json(d);
        else out(`Schedule '${d.scheduleId}' created${nextFire(d)}`);
      }),
    );

  schedule
    .command('update')
    .argument('<scheduleId>')
    .description('changes a schedule from a JSON file: the spec or action given replace its own, policies merge')
    .requiredOption('--file <path>', 'the changes, as JSON ({ spec?, action?, policies? })')
    .action(
      withSession(async ({ client }, flags, scheduleId: string) => {
        const path = (flags as GlobalFlags & { file: string }).file;
        const file = readObject(path);
        if (file.scheduleId !== undefined && file.scheduleId !== scheduleId)
          throw new UsageError(
            `--file ${path} is for schedule '${String(file.scheduleId)}', not '${scheduleId}': drop its scheduleId or update that schedule`,
          );
        const { scheduleId: _id, ...changes } = scheduleFields(file, scheduleId, [
          'scheduleId',
          'spec',
          'action',
          'policies',
        ]);
        const d = await client.schedule.update(scheduleId, changes as ScheduleUpdate & { spec?: ScheduleSpec });
        if (flags.json) json(d);
        else out(`Schedule '${scheduleId}' updated${nextFire(d)}`);
      }),
    );
}
