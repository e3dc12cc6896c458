import type { WorkflowTimeline } from './explorer-data.js';
import { attributesText, esc, layout, statusBadge, time, workflowHref, type ExplorerPaths } from './html.js';

type View = { json?: string; hidden?: string };
const payload = (v: View): string =>
  v.hidden
    ? `<span class="hidden-payload">${esc(v.hidden)}</span>`
    : v.json === undefined
      ? ''
      : `<code>${esc(v.json)}</code>`;

/** A task failure in plain words: what it means and what to do. */
function taskFailureText(message: string): string {
  if (message.includes('NonDeterminismError'))
    return 'The workflow code no longer matches the history this run recorded (a deploy changed what it does). Deploy code that replays this history (use patched() for the change), or terminate the run.';
  if (message.includes('DeterminismViolationError'))
    return 'The workflow code made a call that cannot be replayed (named below). Move it where the message says (an activity, sleep(), uuid4()) and deploy: the run resumes.';
  if (message.includes('CorruptHistoryError'))
    return "An entry of this run's history cannot be read. The run cannot move until the entry is repaired; other workflows are not affected.";
  if (message.includes('Cannot decode'))
    return 'A payload of this run cannot be decoded by the worker (a codec key it lacks?). A worker with the right codec resumes it.';
  if (message.includes('UnknownWorkflowTypeError'))
    return 'No worker on this task queue has this workflow type registered. Deploy a worker that has it.';
  return 'The workflow task fails and is retried with backoff.';
}

/** A pending activity's step cell: a link to its job in Bull Board, or plain text while it runs eagerly (it has no job). */
function pendingActivityStep(a: WorkflowTimeline['description']['pendingActivities'][number], board: string): string {
  const label = `activity ${esc(a.activityType)} #${a.seq}`;
  if (a.eager) return label;
  return `<a href="${esc(`${board}/queue/${encodeURIComponent(a.queue)}/${encodeURIComponent(a.jobId)}`)}">${label}</a>`;
}

function spansTable(t: WorkflowTimeline): string {
  const spans = t.spans;
  if (spans.length === 0) return '<p class="empty">No steps yet.</p>';
  const t0 = Math.min(...spans.map((s) => s.start));
  const t1 = Math.max(...spans.map((s) => s.end ?? Date.now()), t0 + 1);
  const rows = spans
    .map((s) => {
      const left = ((s.start - t0) / (t1 - t0)) * 100;
      const width = Math.max(0.8, (((s.end ?? Date.now()) - s.start) / (t1 - t0)) * 100);
      const took =
        s.end !== undefined && s.end !== s.start ? `${s.end - s.start} ms` : s.end === undefined ? 'open' : '';
      const detail = s.failure
        ? `<span class="failure">${esc(s.failure.type ? `${s.failure.type}: ` : '')}${esc(s.failure.message)}</span>`
        : s.resultView.json !== undefined || s.resultView.hidden
          ? `→ ${payload(s.resultView)}`
          : s.inputView.map(payload).join(', ');
      return `<tr class="span span-${esc(s.kind)} span-${esc(s.status)}${s.compensation ? ' compensation' : ''}" data-kind="${esc(s.kind)}" data-name="${esc(s.name)}" data-status="${esc(s.status)}">
<td>${esc(s.kind)}${s.compensation ? ' <span class="tag">compensation</span>' : ''}</td><td>${esc(s.name)}${s.seq !== undefined ? ` <small>#${s.seq}</small>` : ''}</td>
<td>${esc(s.status)}${s.attempt && s.attempt > 1 ? ` <small>after ${s.attempt} attempts</small>` : ''}</td><td>${esc(took)}</td>
<td class="bar"><span style="margin-left:${left.toFixed(2)}%;width:${width.toFixed(2)}%"></span></td><td>${detail}</td></tr>`;
    })
    .join('\n');
  return `<table class="timeline"><thead><tr><th>Step</th><th>Name</th><th>Status</th><th>Took</th><th>When</th><th>Detail</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function actions(paths: ExplorerPaths, id: string): string {
  return `<section class="actions" data-api="${esc(`${paths.api}/${encodeURIComponent(id)}`)}">
<h2>Act on it</h2>
<form data-action="signal"><label>Signal <input name="name" required placeholder="approve"></label><label>Arguments (JSON array) <input name="args" value="[]"></label><button>Send signal</button></form>
<form data-action="cancel"><label>Reason <input name="reason" placeholder="optional"></label><button>Cancel workflow</button></form>
<form data-action="terminate"><label>Reason <input name="reason" placeholder="optional"></label><button class="danger">Terminate workflow</button></form>
<p id="action-result" role="status"></p>
</section>`;
}

/**
 * Queries (any run, and in read-only mode: they change nothing) and updates (a running run): the
 * result or the refusal is shown under the forms. A worker answers when the console's app does
 * not register the workflow's class.
 */
function messageActions(paths: ExplorerPaths, id: string, updatable: boolean): string {
  return `<section class="actions messages" data-api="${esc(`${paths.api}/${encodeURIComponent(id)}`)}">
<h2>Query${updatable ? ' or update' : ''}</h2>
<form data-action="query"><label>Query <input name="name" required placeholder="status"></label><label>Arguments (JSON array) <input name="args" value="[]"></label><button>Run query</button></form>
${updatable ? '<form data-action="update"><label>Update <input name="name" required placeholder="changeLimit"></label><label>Arguments (JSON array) <input name="args" value="[]"></label><button>Send update</button></form>' : ''}
<pre id="message-result" role="status"></pre>
</section>`;
}

/** Reset: for a running or closed run, to a point of its history (see `handle.reset()`). */
function resetAction(paths: ExplorerPaths, id: string): string {
  return `<section class="actions reset" data-api="${esc(`${paths.api}/${encodeURIComponent(id)}`)}">
<h2>Reset</h2>
<p>Starts a new run from this run's history up to a point, with the code deployed now; what followed is dropped.</p>
<form data-action="reset"><label>To <select name="to"><option value="lastWorkflowTask">the last workflow task</option><option value="firstWorkflowTask">the first workflow task</option><option value="">the event id below</option></select></label>
<label>Event id <input name="toEventId" inputmode="numeric" placeholder="from the raw history"></label><label>Reason <input name="reason" required placeholder="fixed the bug in #123"></label><button class="danger">Reset workflow</button></form>
<p id="reset-result" role="status"></p>
</section>`;
}

/** The page of one workflow: header, task failure, payloads, timeline, pending work, actions, raw history. */
export function workflowPage(paths: ExplorerPaths, heading: string, t: WorkflowTimeline, readOnly: boolean): string {
  const d = t.description;
  const id = d.workflowId;
  const link = (wid: string) => `<a href="${esc(workflowHref(paths, wid))}">${esc(wid)}</a>`;
  const facts: [string, string][] = [
    ['Type', esc(d.workflowType)],
    ['Run', esc(d.runId)],
    ['Task queue', esc(d.taskQueue)],
    ['Started', esc(time(d.startTime))],
    ['Closed', esc(time(d.closeTime))],
    ['Events', String(d.historyLength)],
  ];
  if (Object.keys(d.searchAttributes ?? {}).length)
    facts.push([
      'Search attributes',
      `<code class="search-attributes">${esc(attributesText(d.searchAttributes))}</code>`,
    ]);
  if (d.memo && Object.keys(d.memo).length)
    facts.push(['Memo', `<code class="memo">${esc(JSON.stringify(d.memo))}</code>`]);
  for (const name of Object.keys(d.undecodableMemo ?? {}))
    facts.push([`Memo ${name}`, '<span class="hidden-payload">encoded with a codec this server does not have</span>']);
  if (t.parent) facts.push(['Parent', link(t.parent.workflowId)]);
  if (t.children.length)
    facts.push(['Children', t.children.map((c) => `${link(c.workflowId)} ${statusBadge(c.status)}`).join(' ')]);
  if (d.waitingFor)
    facts.push([
      'Waiting for',
      `a slot of limit <code>${esc(d.waitingFor.limit)}</code>${d.waitingFor.key ? ` (key <code>${esc(d.waitingFor.key)}</code>)` : ''}${d.waitingFor.ahead === undefined ? '' : `, ${d.waitingFor.ahead} ahead`}`,
    ]);
  if (d.buildId || d.lastTaskBuild)
    facts.push(['Build', `started by ${esc(d.buildId ?? '-')}, last task on ${esc(d.lastTaskBuild ?? '-')}`]);
  if (d.pinnedBuild)
    facts.push([
      'Pinned to',
      esc(d.pinnedBuild.build) +
        (d.pinnedBuild.live || d.status !== 'running'
          ? ''
          : ' <strong>(no live worker of this build: its tasks wait for one; start one, or move the run with <code>redurable workflow update-build</code>)</strong>'),
    ]);
  if (d.startsAt) facts.push(['Starts at', `${esc(time(d.startsAt))} (debounced: a later start may push it back)`]);
  if (d.priority !== undefined && d.priority !== 5) facts.push(['Priority', String(d.priority)]);
  if (d.executionDeadline) facts.push(['Execution timeout at', esc(time(d.executionDeadline))]);
  if (d.runDeadline) facts.push(['Run timeout at', esc(time(d.runDeadline))]);
  if (d.resetFrom)
    facts.push([
      'Reset from',
      `run ${esc(d.resetFrom.runId)} at event ${d.resetFrom.eventId}: ${esc(d.resetFrom.reason)}`,
    ]);
  if (t.runs.length > 1)
    facts.push([
      'Runs (continue-as-new)',
      t.runs.map((r, i) => `<span class="run">${i + 1}. ${esc(r)}</span>`).join(' → '),
    ]);
  const failure = d.taskFailure
    ? `<section class="task-failure"><h2>Stuck: the workflow task is failing</h2><p>${esc(taskFailureText(d.taskFailure.message))}</p>
<p>Attempt ${d.taskFailure.attempt}${d.taskFailure.retryAt ? `, next attempt at ${esc(time(d.taskFailure.retryAt))}` : ''}.</p><pre>${esc(d.taskFailure.message)}</pre></section>`
    : '';
  const outcome = d.failure
    ? `<p><b>Failure</b> <span class="failure">${esc(d.failure.type ? `${d.failure.type}: ` : '')}${esc(d.failure.message)}</span></p>`
    : d.result !== undefined
      ? `<p><b>Result</b> <code>${esc(JSON.stringify(d.result, null, 2))}</code></p>`
      : d.undecodableResult
        ? '<p><b>Result</b> <span class="hidden-payload">encoded with a codec this server does not have</span></p>'
        : '';
  const pending =
    d.pendingActivities.length || d.pendingTimers.length
      ? `<h2>Waiting for</h2><table class="pending"><thead><tr><th>Step</th><th>State</th><th>Attempt</th><th>Next attempt (UTC)</th><th>Last error</th></tr></thead><tbody>
${d.pendingActivities.map((a) => `<tr><td>${pendingActivityStep(a, paths.board)}${a.compensation ? ' <span class="tag">compensation</span>' : ''}</td><td>${esc(a.state)}${a.eager ? ` <span class="tag">eager</span> on ${esc(a.eager.worker)} since ${esc(time(a.eager.since))}` : ''}</td><td>${a.attempt}</td><td>${esc(time(a.nextAttemptAt))}</td><td>${esc(a.lastFailure ?? '')}</td></tr>`).join('')}
${d.pendingTimers.map((tm) => `<tr><td><a href="${esc(`${paths.board}/queue/${encodeURIComponent(tm.queue)}/${encodeURIComponent(tm.jobId)}`)}">timer #${tm.seq}</a>, due ${esc(time(tm.dueAt))}</td><td>${esc(tm.state)}</td><td></td><td></td><td></td></tr>`).join('')}
</tbody></table>`
      : '';
  const board = `${paths.board}/queue/${encodeURIComponent(d.jobQueues.activities)}`;
  const body = `<h1>${esc(id)} ${statusBadge(d.status)}</h1>
<dl class="facts">${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>
${failure}
<p><b>Input</b> ${t.input.map(payload).join(', ') || '<i>none</i>'}</p>
${outcome}
<h2>Timeline</h2>
${spansTable(t)}
${pending}
${d.status === 'running' && !readOnly ? actions(paths, id) : ''}
${messageActions(paths, id, d.status === 'running' && !readOnly)}
${readOnly ? '' : resetAction(paths, id)}
<h2>History</h2>
<p><a id="download-history" href="${esc(`${workflowHref(paths, id)}/history.json`)}" download="${esc(`${id}-history.json`)}">Download the history (JSON, for replayHistory tests)</a> ·
<a href="${esc(board)}">Jobs of task queue '${esc(d.taskQueue)}' in Bull Board</a></p>
<details><summary>Raw history</summary><pre id="raw-history" data-src="${esc(`${paths.api}/${encodeURIComponent(id)}/history`)}">loading…</pre></details>`;
  return layout(paths, `${id} · Redurable`, heading, body, { page: 'workflow' });
}
