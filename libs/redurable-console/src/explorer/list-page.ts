import type { ListWorkflowsPage } from 'redurable';
import { STATUSES, type ExplorerQuery, type StatusCount } from './explorer-data.js';
import { attributesText, esc, layout, statusBadge, time, workflowHref, type ExplorerPaths } from './html.js';

function query(q: ExplorerQuery, change: Partial<ExplorerQuery>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...q, ...change })) if (v) params.set(k, v);
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** The list page: filters, counts per status, one page of workflows, auto-refresh. */
export function listPage(
  paths: ExplorerPaths,
  heading: string,
  q: ExplorerQuery,
  page: ListWorkflowsPage,
  counts: StatusCount[],
): string {
  const { cursor: _cursor, ...base } = q;
  const countLinks = counts
    .map(
      (c) =>
        `<a class="count${q.status === c.status ? ' selected' : ''}" href="${esc(query(base, { status: q.status === c.status ? '' : c.status }))}">${statusBadge(c.status)} <b>${c.count}</b></a>`,
    )
    .join('');
  const rows = page.workflows
    .map(
      (w) => `<tr>
<td><a href="${esc(workflowHref(paths, w.workflowId))}">${esc(w.workflowId)}</a></td><td>${esc(w.workflowType)}</td><td>${statusBadge(w.status)}</td>
<td>${esc(w.taskQueue)}</td><td>${esc(time(w.startTime))}</td><td>${esc(time(w.closeTime))}</td><td class="search-attributes">${esc(attributesText(w.searchAttributes ?? {}))}</td></tr>`,
    )
    .join('\n');
  const options = ['', ...STATUSES]
    .map((s) => `<option value="${s}"${q.status === s ? ' selected' : ''}>${s ? esc(s) : 'any status'}</option>`)
    .join('');
  const body = `<h1>Workflows</h1>
<div class="counts">${countLinks}</div>
<form class="filters" method="get">
<label>Status <select name="status">${options}</select></label>
<label>Type <input name="type" value="${esc(q.type)}" placeholder="TransferWorkflow"></label>
<label>Id starts with <input name="idPrefix" value="${esc(q.idPrefix)}" placeholder="transfer-"></label>
<label>Started after <input type="datetime-local" name="startedAfter" value="${esc(q.startedAfter)}"></label>
<label>Started before <input type="datetime-local" name="startedBefore" value="${esc(q.startedBefore)}"></label>
<label class="query">Query <input name="query" value="${esc(q.query)}" size="60" placeholder="customerId = 'c-1' AND amount >= 100"></label>
<button type="submit">Filter</button> <a href="${esc(paths.explorer)}">clear</a>
<label class="refresh"><input type="checkbox" id="auto-refresh" checked> refresh every 5 s</label>
</form>
<table class="workflows">
<thead><tr><th>Workflow id</th><th>Type</th><th>Status</th><th>Task queue</th><th>Started (UTC)</th><th>Closed (UTC)</th><th>Search attributes</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="7" class="empty">No workflow matches.</td></tr>'}
</tbody>
</table>
${page.nextCursor ? `<p class="paging"><a id="next-page" href="${esc(query(q, { cursor: page.nextCursor }))}">Next page →</a></p>` : ''}`;
  return layout(paths, 'Workflows · Redurable', heading, body, { page: 'list' });
}
