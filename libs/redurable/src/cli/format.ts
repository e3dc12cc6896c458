import type { WorkflowDescription } from '../client/workflow-description.js';
import type { WorkflowSummary } from '../client/workflow-listing.js';
import type { SearchAttributes } from '../core/search/search-attributes.js';
import type { HistoryEvent } from '../core/events.js';
import type { TimelineSpan } from '../core/timeline.js';
import { previewPayload } from '../core/payload/payload-preview.js';
import type { DataConverter } from '../core/payload/data-converter.js';

/** Rows as a table with aligned columns, the first row being the header. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const time = (ms?: number | Date): string => (ms === undefined ? '-' : new Date(ms).toISOString());

/** Search attributes as `name=value` pairs (datetimes in ISO 8601, strings quoted). */
export function attributesText(attributes: SearchAttributes): string {
  return Object.entries(attributes)
    .map(([name, v]) => `${name}=${v instanceof Date ? v.toISOString() : JSON.stringify(v)}`)
    .join(' ');
}

export function workflowTable(workflows: WorkflowSummary[]): string {
  const withAttributes = workflows.some((w) => Object.keys(w.searchAttributes ?? {}).length > 0);
  return table([
    ['WORKFLOW ID', 'TYPE', 'STATUS', 'STARTED', 'CLOSED', ...(withAttributes ? ['SEARCH ATTRIBUTES'] : [])],
    ...workflows.map((w) => [
      w.workflowId,
      w.workflowType,
      w.status,
      time(w.startTime),
      time(w.closeTime),
      ...(withAttributes ? [attributesText(w.searchAttributes ?? {})] : []),
    ]),
  ]);
}

/** A stored payload as JSON text, decoded with the app's codec; says so when it cannot be decoded. */
export function payloadText(converter: DataConverter, stored: string | undefined): string {
  if (stored === undefined) return '-';
  const { json, undecodable } = previewPayload((s) => converter.decode(s, 'payload'), stored);
  if (!undecodable) return json!;
  return undecodable.keyId
    ? `<encrypted with key '${undecodable.keyId}': pass the app's codec with --codec to see it>`
    : "<encoded payload this process cannot decode: pass the app's codec with --codec>";
}

export function describeText(d: WorkflowDescription, converter: DataConverter): string {
  const lines = [
    `Workflow   ${d.workflowId}`,
    `Run        ${d.runId}`,
    `Type       ${d.workflowType}`,
    `Task queue ${d.taskQueue}`,
    `Status     ${d.status}`,
    ...(d.waitingFor
      ? [
          `Waiting    for a slot of limit '${d.waitingFor.limit}'${d.waitingFor.key ? ` (key '${d.waitingFor.key}')` : ''}` +
            (d.waitingFor.ahead === undefined ? '' : `, ${d.waitingFor.ahead} ahead`),
        ]
      : []),
    ...(d.startsAt ? [`Starts at  ${time(d.startsAt)} (debounced)`] : []),
    ...(d.buildId || d.lastTaskBuild
      ? [`Build      started by ${d.buildId ?? '-'}, last task on ${d.lastTaskBuild ?? '-'}`]
      : []),
    ...(d.pinnedBuild
      ? [
          `Pinned to  ${d.pinnedBuild.build}` +
            (d.pinnedBuild.live || d.status !== 'running'
              ? ''
              : ' (no live worker of this build: its tasks wait for one; start one, or move the run with update-build)'),
        ]
      : []),
    ...(d.priority !== undefined && d.priority !== 5 ? [`Priority   ${d.priority}`] : []),
    `Started    ${time(d.startTime)}`,
    `Closed     ${time(d.closeTime)}`,
    `Events     ${d.historyLength}`,
  ];
  if (d.executionDeadline) lines.push(`Execution timeout at ${time(d.executionDeadline)}`);
  if (d.runDeadline) lines.push(`Run timeout at       ${time(d.runDeadline)}`);
  if (d.resetFrom)
    lines.push(`Reset from run ${d.resetFrom.runId} at event ${d.resetFrom.eventId}: ${d.resetFrom.reason}`);
  if (d.result !== undefined) lines.push(`Result     ${JSON.stringify(d.result)}`);
  if (d.undecodableResult) lines.push(`Result     ${payloadText(converter, d.undecodableResult.stored)}`);
  if (d.failure) lines.push(`Failure    ${d.failure.type ? `${d.failure.type}: ` : ''}${d.failure.message}`);
  if (Object.keys(d.searchAttributes).length > 0) lines.push(`Search     ${attributesText(d.searchAttributes)}`);
  if (d.memo && Object.keys(d.memo).length > 0) lines.push(`Memo       ${JSON.stringify(d.memo)}`);
  for (const [name, m] of Object.entries(d.undecodableMemo ?? {}))
    lines.push(`Memo ${name}  ${payloadText(converter, m.stored)}`);
  if (d.taskFailure) {
    lines.push(
      `Task failure (attempt ${d.taskFailure.attempt}${d.taskFailure.retryAt ? `, next attempt ${time(d.taskFailure.retryAt)}` : ''}): ${d.taskFailure.message}`,
    );
  }
  if (d.pendingActivities.length > 0) {
    lines.push(
      '',
      'Pending activities',
      table([
        ['SEQ', 'ACTIVITY', 'STATE', 'ATTEMPT', 'NEXT ATTEMPT', 'LAST FAILURE'],
        ...d.pendingActivities.map((a) => [
          String(a.seq),
          `${a.activityType}${a.compensation ? ' (compensation)' : ''}`,
          a.eager ? `${a.state} (eager, on ${a.eager.worker} since ${time(a.eager.since)})` : a.state,
          String(a.attempt),
          a.nextAttemptAt ? time(a.nextAttemptAt) : '',
          a.lastFailure ?? '',
        ]),
      ]),
    );
  }
  if (d.pendingTimers.length > 0) {
    lines.push(
      '',
      'Pending timers',
      table([['SEQ', 'DUE', 'STATE'], ...d.pendingTimers.map((t) => [String(t.seq), time(t.dueAt), t.state])]),
    );
  }
  if (d.compensations.length > 0) {
    lines.push(
      '',
      'Compensations',
      table([['SEQ', 'ACTIVITY', 'STATUS'], ...d.compensations.map((c) => [String(c.seq), c.activityType, c.status])]),
    );
  }
  return lines.join('\n');
}

/** One line per timeline span: when, what, how it ended, how long it took. */
export function timelineText(spans: TimelineSpan[], converter: DataConverter): string {
  if (spans.length === 0) return '(no steps yet)';
  return table([
    ['STARTED', 'STEP', 'STATUS', 'TOOK', 'DETAIL'],
    ...spans.map((s) => [
      time(s.start),
      `${s.kind} ${s.name}${s.seq !== undefined ? ` #${s.seq}` : ''}${s.compensation ? ' (compensation)' : ''}`,
      `${s.status}${s.attempt && s.attempt > 1 ? ` (attempt ${s.attempt})` : ''}`,
      s.end !== undefined && s.end !== s.start ? `${s.end - s.start} ms` : '',
      s.failure
        ? `${s.failure.type ? `${s.failure.type}: ` : ''}${s.failure.message}`
        : s.result !== undefined
          ? `-> ${payloadText(converter, s.result)}`
          : s.input?.length
            ? `(${s.input.map((p) => payloadText(converter, p)).join(', ')})`
            : '',
    ]),
  ]);
}

/** History events, one per line (`show --events`, and what `--follow` prints as they come). */
export function eventLine(e: HistoryEvent): string {
  const detail = 'seq' in e ? ` #${e.seq}` : '';
  const what =
    e.type === 'ActivityTaskScheduled' ? ` ${e.activityType}` : e.type === 'SignalReceived' ? ` ${e.signalName}` : '';
  return `${String(e.id).padStart(4)}  ${time(e.ts)}  ${e.type}${what}${detail}`;
}
