import type { Command } from 'commander';
import type {
  ScheduleDescription,
  ScheduleOverlapPolicy,
  ScheduleSummary,
} from '../core/schedules/schedule-options.js';
import { UsageError } from './connect.js';
import { table } from './format.js';
import { checkPrefixHoldsData } from './prefix-data.js';
import { json, out, withSession } from './workflow-commands.js';

const time = (d?: Date): string => (d === undefined ? '-' : d.toISOString());

function isoTime(value: string, option: string): Date {
  const date = new Date(value);
  if (!/^\d{4}-\d\d-\d\d/.test(value) || Number.isNaN(date.getTime()))
    throw new UsageError(`${option} must be an ISO 8601 date-time such as 2026-11-01T00:00:00Z, not '${value}'`);
  return date;
}

function specText(spec: ScheduleSummary['spec']): string {
  const base =
    spec.cron !== undefined
      ? `cron '${spec.cron}'${spec.timezone ? ` ${spec.timezone}` : ''}`
      : `every ${spec.everyMs} ms`;
  return `${base}${spec.startAt ? ` from ${time(spec.startAt)}` : ''}${spec.endAt ? ` until ${time(spec.endAt)}` : ''}`;
}

function scheduleTable(schedules: ScheduleSummary[]): string {
  return table([
    ['SCHEDULE ID', 'WORKFLOW TYPE', 'SPEC', 'STATE', 'NEXT FIRE', 'RUNNING'],
    ...schedules.map((s) => [
      s.scheduleId,
      s.workflowType,
      specText(s.spec),
      s.paused ? 'paused' : 'active',
      time(s.nextFireTime),
      String(s.running),
    ]),
  ]);
}

function describeScheduleText(d: ScheduleDescription): string {
  const lines = [
    `Schedule   ${d.scheduleId} (${d.origin === 'decorator' ? '@Schedule' : 'created by a client'})`,
    `Spec       ${specText(d.spec)}`,
    `Action     ${d.action.workflowType}${d.action.taskQueue ? ` on ${d.action.taskQueue}` : ''}, id ${d.action.workflowId}, args ${JSON.stringify(d.action.args)}`,
    `Policies   overlap ${d.policies.overlap}, catch-up ${d.policies.catchup} within ${d.policies.catchupWindowMs} ms`,
    `State      ${d.paused ? 'paused' : 'active'}${d.note ? ` (${d.note})` : ''}`,
    `Last fire  ${time(d.lastFireTime)}`,
    `Next fires ${d.nextFireTimes.map((t) => t.toISOString()).join(', ') || '-'}`,
    `Counts     ${d.counts.started} started, ${d.counts.skipped} skipped, ${d.counts.missed} missed, ${d.counts.failed} failed`,
  ];
  if (d.bufferedFireTime) lines.push(`Buffered   ${time(d.bufferedFireTime)}`);
  lines.push(
    '',
    d.running.length === 0
      ? 'Running: none'
      : `Running:\n${d.running.map((r) => `  ${r.workflowId} (run ${r.runId})`).join('\n')}`,
  );
  if (d.recentActions.length > 0) {
    lines.push(
      '',
      'Recent actions:',
      table([
        ['FIRE TIME', 'CAUSE', 'OUTCOME', 'WORKFLOW ID', 'REASON'],
        ...d.recentActions.map((a) => [time(a.fireTime), a.cause, a.outcome, a.workflowId ?? '-', a.reason ?? '']),
      ]),
    );
  }
  return lines.join('\n');
}

/** `redurable schedule ...`: the subcommands. */
export function addScheduleCommands(schedule: Command): void {
  schedule
    .command('list')
    .description('schedules, by id')
    .action(
      withSession(async (session, flags) => {
        const schedules = await session.client.schedule.list();
        if (schedules.length === 0) await checkPrefixHoldsData(session);
        if (flags.json) json(schedules);
        else out(schedules.length === 0 ? '(no schedules)' : scheduleTable(schedules));
      }),
    );

  schedule
    .command('describe')
    .argument('<scheduleId>')
    .description('spec, policies, next fire times, recent actions, running workflows')
    .action(
      withSession(async ({ client }, flags, scheduleId: string) => {
        const d = await client.schedule.describe(scheduleId);
        if (flags.json) json(d);
        else out(describeScheduleText(d));
      }),
    );

  schedule
    .command('pause')
    .argument('<scheduleId>')
    .description('stops firing until unpaused')
    .option('--note <note>', 'why (shown by describe)')
    .action(
      withSession(async ({ client }, flags, scheduleId: string) => {
        await client.schedule.pause(scheduleId, (flags as { note?: string }).note);
        if (flags.json) json({ scheduleId, paused: true });
        else out(`Schedule '${scheduleId}' paused`);
      }),
    );

  schedule
    .command('unpause')
    .argument('<scheduleId>')
    .description('fires again from now on')
    .option('--note <note>', 'why (shown by describe)')
    .action(
      withSession(async ({ client }, flags, scheduleId: string) => {
        await client.schedule.unpause(scheduleId, (flags as { note?: string }).note);
        if (flags.json) json({ scheduleId, paused: false });
        else out(`Schedule '${scheduleId}' unpaused`);
      }),
    );

  schedule
    .command('trigger')
    .argument('<scheduleId>')
    .description("fires now, under the schedule's overlap policy")
    .action(
      withSession(async ({ client }, flags, scheduleId: string) => {
        const action = await client.schedule.trigger(scheduleId);
        if (flags.json) json(action);
        else
          out(
            action.outcome === 'started'
              ? `Started workflow '${action.workflowId}' (run ${action.runId})`
              : `Not started: ${action.outcome} (${action.reason ?? ''})`,
          );
      }),
    );

  schedule
    .command('backfill')
    .argument('<scheduleId>')
    .description(
      'fires every spec time in [from, to] (a workflow per fire time; those already started are not started again)',
    )
    .requiredOption('--from <time>', 'ISO 8601 date-time, for example 2026-11-01T00:00:00Z', (v) =>
      isoTime(v, '--from'),
    )
    .requiredOption('--to <time>', 'ISO 8601 date-time (included)', (v) => isoTime(v, '--to'))
    .option('--overlap <policy>', 'overlap policy for these fires', 'ALLOW_ALL')
    .action(
      withSession(async ({ client }, flags, scheduleId: string) => {
        const f = flags as unknown as { from: Date; to: Date; overlap: ScheduleOverlapPolicy };
        const actions = await client.schedule.backfill(scheduleId, f.from, f.to, { overlap: f.overlap });
        if (flags.json) json(actions);
        else
          out(
            actions.length === 0
              ? 'No fire times in that range'
              : actions
                  .map(
                    (a) =>
                      `${time(a.fireTime)}  ${a.outcome}${a.workflowId ? `  ${a.workflowId}` : ''}${a.reason ? `  (${a.reason})` : ''}`,
                  )
                  .join('\n'),
          );
      }),
    );

  schedule
    .command('delete')
    .argument('<scheduleId>')
    .description('deletes the schedule (the workflows it started keep running)')
    .action(
      withSession(async ({ client }, flags, scheduleId: string) => {
        await client.schedule.delete(scheduleId);
        if (flags.json) json({ scheduleId, deleted: true });
        else out(`Schedule '${scheduleId}' deleted`);
      }),
    );
}
