import type { ScheduleDescription, ScheduleSummary } from 'redurable';
import { esc, layout, time, workflowHref, type ExplorerPaths } from './html.js';

function specText(spec: ScheduleSummary['spec']): string {
  const base =
    spec.cron !== undefined
      ? `cron ${spec.cron}${spec.timezone ? ` (${spec.timezone})` : ''}`
      : `every ${spec.everyMs} ms`;
  return `${base}${spec.startAt ? `, from ${time(spec.startAt)}` : ''}${spec.endAt ? `, until ${time(spec.endAt)}` : ''}`;
}

const stateBadge = (paused: boolean) =>
  `<span class="status status-${paused ? 'paused' : 'running'}">${paused ? 'paused' : 'active'}</span>`;

export function scheduleHref(paths: ExplorerPaths, scheduleId: string): string {
  return `${paths.schedules}/${encodeURIComponent(scheduleId)}`;
}

/** The schedules list: spec, state, next fire, last action, running count. */
export function scheduleListPage(paths: ExplorerPaths, heading: string, schedules: ScheduleSummary[]): string {
  const rows = schedules
    .map(
      (s) => `<tr data-schedule="${esc(s.scheduleId)}">
<td><a href="${esc(scheduleHref(paths, s.scheduleId))}">${esc(s.scheduleId)}</a></td><td>${esc(s.workflowType)}</td><td>${esc(specText(s.spec))}</td>
<td>${stateBadge(s.paused)}${s.note ? ` <small>${esc(s.note)}</small>` : ''}</td><td>${esc(time(s.nextFireTime))}</td>
<td>${s.lastAction ? `${esc(s.lastAction.outcome)}${s.lastAction.workflowId ? ` <a href="${esc(workflowHref(paths, s.lastAction.workflowId))}">${esc(s.lastAction.workflowId)}</a>` : ''}` : ''}</td><td>${s.running}</td></tr>`,
    )
    .join('\n');
  const body = `<h1>Schedules</h1>
<table class="workflows schedules">
<thead><tr><th>Schedule id</th><th>Workflow type</th><th>Spec</th><th>State</th><th>Next fire (UTC)</th><th>Last action</th><th>Running</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="7" class="empty">No schedules.</td></tr>'}
</tbody>
</table>`;
  return layout(paths, 'Schedules · Redurable', heading, body, { page: 'schedules' });
}

/** One schedule: definition, state, next fire times, running workflows, recent actions. */
export function schedulePage(paths: ExplorerPaths, heading: string, d: ScheduleDescription): string {
  const link = (id: string) => `<a href="${esc(workflowHref(paths, id))}">${esc(id)}</a>`;
  const facts: [string, string][] = [
    ['Spec', esc(specText(d.spec))],
    ['Workflow', `${esc(d.action.workflowType)}${d.action.taskQueue ? ` on ${esc(d.action.taskQueue)}` : ''}`],
    ['Workflow id', `<code>${esc(d.action.workflowId)}</code>`],
    ['Arguments', `<code>${esc(JSON.stringify(d.action.args))}</code>`],
    ['Overlap', esc(d.policies.overlap)],
    ['Catch-up', `${esc(d.policies.catchup)} within ${esc(d.policies.catchupWindowMs)} ms`],
    ['State', `${stateBadge(d.paused)}${d.note ? ` ${esc(d.note)}` : ''}`],
    ['Owner', d.origin === 'decorator' ? '@Schedule in code' : 'created by a client'],
    ['Last fire', esc(time(d.lastFireTime))],
    [
      'Counts',
      esc(
        `${d.counts.started} started, ${d.counts.skipped} skipped, ${d.counts.missed} missed, ${d.counts.failed} failed`,
      ),
    ],
  ];
  if (d.bufferedFireTime) facts.push(['Buffered fire', esc(time(d.bufferedFireTime))]);
  const next = d.nextFireTimes.map((t) => `<li>${esc(time(t))}</li>`).join('') || '<li class="empty">none</li>';
  const running =
    d.running.map((r) => `<li>${link(r.workflowId)} <small>run ${esc(r.runId)}</small></li>`).join('') ||
    '<li class="empty">none</li>';
  const actions = d.recentActions
    .map(
      (a) => `<tr class="action action-${esc(a.outcome)}" data-outcome="${esc(a.outcome)}">
<td>${esc(time(a.fireTime))}</td><td>${esc(a.cause)}</td><td>${esc(a.outcome)}</td><td>${a.workflowId ? link(a.workflowId) : ''}</td><td>${esc(a.reason ?? '')}</td></tr>`,
    )
    .join('\n');
  const body = `<h1>Schedule ${esc(d.scheduleId)}</h1>
<dl class="facts">${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>
<h2>Next fire times (UTC)</h2><ul class="next-fires">${next}</ul>
<h2>Running workflows</h2><ul class="running">${running}</ul>
<h2>Recent actions</h2>
<table class="timeline"><thead><tr><th>Fire time (UTC)</th><th>Cause</th><th>Outcome</th><th>Workflow</th><th>Reason</th></tr></thead>
<tbody>${actions || '<tr><td colspan="5" class="empty">None yet.</td></tr>'}</tbody></table>`;
  return layout(paths, `${d.scheduleId} · Schedules · Redurable`, heading, body, { page: 'schedule' });
}
