import type { Command } from 'commander';
import type { WorkflowClient } from '../client/workflow-client.js';
import { WorkerRegistry, type WorkerRecord } from '../store/worker-registry.js';
import { json, out, withSession, type GlobalFlags } from './workflow-commands.js';

/** Running workflows read at most (newest first), to count them per build. */
const MAX_RUNNING = 10_000;

/** One build as `redurable build list` shows it. */
interface BuildRow {
  build: string;
  firstSeen?: Date;
  /** Its live workers; `superseded`: the task queues where a newer build takes the new runs. */
  liveWorkers: { id: string; host: string; pid: number; taskQueues: string[]; superseded: string[] }[];
  /** Running workflows pinned to this build, or (not pinned) whose last workflow task ran on it, by type. */
  running: Record<string, number>;
  /** A live worker of it takes new runs (on some task queue no newer build serves). */
  takesNewRuns: boolean;
  /** No live worker and no running workflow. */
  drained: boolean;
}

/** Workers and runs of no `buildId`. */
const NONE = '(none)';

/**
 * `redurable build list [--json]`: each build with its live workers and its running workflows
 * per type (pinned runs by their build, others by the build that ran their last task),
 * `drained` once it has neither.
 */
export function addBuildCommands(build: Command): void {
  build
    .command('list')
    .description('builds with their live workers and running workflows per type; drained once they have neither')
    .action(
      withSession(async ({ runtime, client }, flags) => {
        const registry = new WorkerRegistry(runtime.redis, runtime.keys);
        const [workers, seen, running] = await Promise.all([
          registry.live(),
          registry.builds(),
          runningByBuild(client),
        ]);
        const rows = buildRows(workers, seen, running);
        if (flags.json) json(rows);
        else out(rows.length === 0 ? '(no builds: no worker registered one)' : buildTable(rows));
      }),
    );
}

async function runningByBuild(client: WorkflowClient): Promise<Map<string, Record<string, number>>> {
  const byBuild = new Map<string, Record<string, number>>();
  let cursor: string | undefined;
  let read = 0;
  do {
    const page = await client.list({ status: 'running', limit: 1000, cursor });
    for (const w of page.workflows) {
      const build = w.pinnedBuild ?? w.lastTaskBuild ?? NONE;
      const counts = byBuild.get(build) ?? {};
      counts[w.workflowType] = (counts[w.workflowType] ?? 0) + 1;
      byBuild.set(build, counts);
    }
    read += page.workflows.length;
    cursor = page.nextCursor;
  } while (cursor && read < MAX_RUNNING);
  return byBuild;
}

function buildRows(
  workers: WorkerRecord[],
  seen: Record<string, number>,
  running: Map<string, Record<string, number>>,
): BuildRow[] {
  const names = new Set([...Object.keys(seen), ...workers.map((w) => w.build ?? NONE), ...running.keys()]);
  return [...names]
    .map((build) => {
      const liveWorkers = workers
        .filter((w) => (w.build ?? NONE) === build)
        .map(({ id, host, pid, taskQueues, superseded = [] }) => ({ id, host, pid, taskQueues, superseded }));
      const runs = running.get(build) ?? {};
      return {
        build,
        ...(seen[build] !== undefined ? { firstSeen: new Date(seen[build]) } : {}),
        liveWorkers,
        running: runs,
        takesNewRuns: liveWorkers.some((w) => w.taskQueues.some((q) => !w.superseded.includes(q))),
        drained: liveWorkers.length === 0 && Object.keys(runs).length === 0,
      };
    })
    .sort((a, b) => (b.firstSeen?.getTime() ?? 0) - (a.firstSeen?.getTime() ?? 0));
}

function buildTable(rows: BuildRow[]): string {
  const lines = rows.map((r) => {
    const runs = Object.entries(r.running)
      .map(([type, n]) => `${type} ${n}`)
      .join(', ');
    const state = r.drained
      ? 'drained'
      : `${r.liveWorkers.length} live worker(s)${r.liveWorkers.length > 0 && !r.takesNewRuns ? ', draining' : ''}`;
    return `${r.build.padEnd(24)} ${(r.firstSeen?.toISOString() ?? '-').padEnd(24)} ${state.padEnd(30)} ${runs || '-'}`;
  });
  return [`${'BUILD'.padEnd(24)} ${'FIRST SEEN'.padEnd(24)} ${'STATE'.padEnd(30)} RUNNING`, ...lines].join('\n');
}

/** `redurable workflow update-build <id> --to <build>`: moves a pinned run to another build. */
export function addWorkflowUpdateBuildCommand(workflow: Command): void {
  workflow
    .command('update-build')
    .argument('<workflowId>')
    .description(
      "moves a pinned workflow to another build, whose workers run its next tasks (when you know that build's code replays it)",
    )
    .requiredOption('--to <build>', 'the build (module option buildId) to move it to')
    .action(
      withSession(async ({ client }, flags, workflowId: string) => {
        const moved = await client.getHandle(workflowId).updateBuild((flags as GlobalFlags & { to: string }).to);
        if (flags.json) json({ workflowId, ...moved });
        else
          out(
            `Workflow '${workflowId}' moved from build ${moved.from} to ${moved.to}` +
              (moved.live ? '' : `; no worker of build ${moved.to} is live: its tasks wait for one`),
          );
      }),
    );
}
