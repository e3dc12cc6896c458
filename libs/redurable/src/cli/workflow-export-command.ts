import type { Command } from 'commander';
import { positiveInt, statusOption, withSession, type GlobalFlags } from './workflow-commands.js';

interface ExportFlags extends GlobalFlags {
  type?: string;
  status?: string;
  limit: number;
}

/**
 * `redurable workflow export [--type T] [--status S] [--limit N]`: the histories of the newest
 * N matching workflows (their current runs), one JSON line each, `{ workflowId, runId,
 * workflowType, history }`, payloads as stored (encoded). For a replay test in CI:
 * `redurable workflow export --type T --status running --limit 100 > runs.ndjson`, then
 * `replayHistories('runs.ndjson', [T])` from `redurable/testing`.
 */
export function addWorkflowExportCommand(workflow: Command): void {
  workflow
    .command('export')
    .description('histories of the newest matching workflows, one JSON line each (for replayHistories)')
    .option('--type <type>', 'workflow type')
    .addOption(statusOption())
    .option('--limit <n>', 'how many workflows', (v) => positiveInt(v, '--limit'), 100)
    .action(
      withSession(async ({ client }, flags) => {
        const f = flags as ExportFlags;
        let left = f.limit;
        let cursor: string | undefined;
        do {
          const page = await client.list({ type: f.type, status: f.status, limit: Math.min(left, 1000), cursor });
          for (const { workflowId, runId, workflowType } of page.workflows) {
            const history = await client.getHandle(workflowId, runId).fetchHistory();
            process.stdout.write(`${JSON.stringify({ workflowId, runId, workflowType, history })}\n`);
          }
          left -= page.workflows.length;
          cursor = page.nextCursor;
        } while (cursor && left > 0);
      }),
    );
}
