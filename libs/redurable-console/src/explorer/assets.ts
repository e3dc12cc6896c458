/** The explorer's stylesheet and script, shipped in the package and served by it (no CDN, works offline). */
export const EXPLORER_CSS = `
:root { font-family: system-ui, sans-serif; color: #1d2330; background: #f6f7f9; }
header { display: flex; gap: 2rem; align-items: center; padding: .6rem 1.5rem; background: #1d2330; }
header a { color: #fff; text-decoration: none; margin-right: 1rem; } .brand { font-weight: 700; }
main { padding: 1rem 1.5rem; } h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 1.5rem; }
table { border-collapse: collapse; width: 100%; background: #fff; } th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #e3e6ea; vertical-align: top; }
th { background: #eef0f3; font-weight: 600; } .empty { color: #6b7280; font-style: italic; }
.status { display: inline-block; padding: 0 .45rem; border-radius: .6rem; font-size: .85rem; background: #e5e7eb; }
.status-running { background: #dbeafe; } .status-completed { background: #dcfce7; } .status-failed, .status-compensation_failed { background: #fee2e2; } .status-paused { background: #fef3c7; }
.status-canceled, .status-terminated, .status-timed_out { background: #fef3c7; }
.counts { display: flex; gap: .8rem; margin-bottom: .8rem; flex-wrap: wrap; } .count { text-decoration: none; color: inherit; } .count.selected b { text-decoration: underline; }
.filters { display: flex; gap: .8rem; flex-wrap: wrap; align-items: end; margin-bottom: .8rem; } .filters label { display: flex; flex-direction: column; font-size: .85rem; }
.refresh { flex-direction: row !important; align-items: center; gap: .3rem; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; } dt { font-weight: 600; }
.task-failure { border: 2px solid #dc2626; background: #fff1f2; padding: .5rem 1rem; } pre { white-space: pre-wrap; background: #fff; padding: .5rem; }
.bar { width: 30%; } .bar span { display: block; height: .8rem; background: #60a5fa; border-radius: .2rem; }
.span-failed .bar span { background: #f87171; } .compensation .bar span { background: #f59e0b; } .span-pending .bar span { background: #cbd5e1; }
.tag { font-size: .75rem; background: #fde68a; padding: 0 .3rem; border-radius: .3rem; } .failure { color: #b91c1c; }
.hidden-payload { color: #6b7280; font-style: italic; } code { white-space: pre-wrap; }
.actions form { display: flex; gap: .6rem; align-items: end; margin: .4rem 0; } .actions label { display: flex; flex-direction: column; font-size: .85rem; }
button.danger { color: #fff; background: #b91c1c; border: 0; padding: .3rem .7rem; } #action-result { font-weight: 600; }
#message-result:empty { display: none; } #message-result[data-outcome=refused] { color: #b91c1c; }
`;

export const EXPLORER_JS = `
(() => {
  const page = document.body.dataset.page;
  // The list refreshes itself (in place, keeping the scroll position) while the box is ticked.
  if (page === 'list') {
    setInterval(async () => {
      const box = document.getElementById('auto-refresh');
      if (!box || !box.checked) return;
      const res = await fetch(location.href, { headers: { accept: 'text/html' } });
      if (!res.ok) return;
      const next = new DOMParser().parseFromString(await res.text(), 'text/html');
      for (const sel of ['.counts', 'table.workflows tbody', '.paging']) {
        const from = next.querySelector(sel), to = document.querySelector(sel);
        if (from && to) to.innerHTML = from.innerHTML;
      }
    }, 5000);
  }
  // The raw history is loaded when opened.
  const raw = document.getElementById('raw-history');
  if (raw) raw.closest('details').addEventListener('toggle', async () => {
    if (raw.dataset.loaded) return;
    raw.dataset.loaded = '1';
    const res = await fetch(raw.dataset.src);
    raw.textContent = JSON.stringify((await res.json()).events, null, 2);
  });
  // Actions: confirm, call the API, show what happened.
  for (const section of document.querySelectorAll('.actions')) for (const form of section.querySelectorAll('form')) {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const action = form.dataset.action;
      const data = Object.fromEntries(new FormData(form));
      // A query or an update: its result (or refusal) is shown under the forms; the page stays.
      if (action === 'query' || action === 'update') {
        const shown = document.getElementById('message-result');
        let args;
        try { args = JSON.parse(data.args || '[]'); if (!Array.isArray(args)) throw new Error(); } catch { shown.textContent = 'Arguments must be a JSON array, for example ["ada", 500]'; return; }
        if (action === 'update' && !confirm('Really send update "' + data.name + '" to this workflow?')) return;
        shown.dataset.outcome = 'pending';
        shown.textContent = action === 'query' ? 'Querying…' : 'Updating…';
        const res = await fetch(section.dataset.api + '/' + action, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: data.name, args }) });
        const reply = await res.json().catch(() => ({}));
        shown.dataset.outcome = res.ok ? 'ok' : 'refused';
        shown.textContent = !res.ok ? 'Refused (' + res.status + '): ' + (reply.message || res.statusText)
          : reply.accepted ? 'Update ' + reply.updateId + ' accepted; its handler is still running'
          : 'Result of ' + action + ' "' + data.name + '": ' + (JSON.stringify(reply.result, null, 2) ?? 'undefined');
        return;
      }
      const out = document.getElementById(action === 'reset' ? 'reset-result' : 'action-result');
      let body = { reason: data.reason };
      if (action === 'signal') {
        try { body = { name: data.name, args: JSON.parse(data.args || '[]') }; } catch { out.textContent = 'Arguments must be a JSON array, for example ["ada", 500]'; return; }
      }
      if (action === 'reset') body = data.to ? { to: data.to, reason: data.reason } : { toEventId: data.toEventId, reason: data.reason };
      const what = action === 'signal' ? 'send signal "' + data.name + '" to' : action;
      if (!confirm('Really ' + what + ' this workflow?')) return;
      const res = await fetch(section.dataset.api + '/' + action, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const reply = await res.json().catch(() => ({}));
      const done = action === 'signal' ? 'signal sent' : action === 'cancel' ? 'cancellation requested' : action === 'reset' ? 'reset, new run ' + reply.runId : 'terminated';
      out.textContent = res.ok ? 'Done: ' + done + '. Reloading…' : 'Refused (' + res.status + '): ' + (reply.message || res.statusText);
      if (res.ok) setTimeout(() => location.reload(), 1200);
    });
  }
})();
`;
