/**
 * Fault injection for the crash tests: every gap between two Redis writes is a named
 * point. When `REDURABLE_CRASH_POINT` names one, the process kills itself there with
 * SIGKILL (after `REDURABLE_CRASH_AFTER` hits, default 1). Unset, it costs one comparison.
 */
export type CrashPoint =
  | 'start.after-script'
  | 'debounce.after-script'
  | 'task.after-commit'
  /** A worker of another build found the run pinned, and has not yet handed its task to the run's build. */
  | 'task.before-forward'
  | 'task.after-dispatch'
  | 'activity.after-run'
  | 'eager.after-run'
  | 'eager.before-renew'
  | 'eager.after-handover'
  | 'eager.after-acquire'
  | 'eager.before-handover'
  | 'sweep.after-takeover'
  | 'local.after-run'
  | 'local.after-checkpoint'
  | 'completion.after-append'
  | 'close.after-commit'
  | 'child.after-start'
  | 'notify.after-append'
  | 'external.after-append'
  | 'timeout.after-close'
  | 'reset.after-script'
  | 'update-build.after-script'
  | 'schedule.after-lock'
  | 'flow.after-acquire'
  | 'flow.after-release';

const target = process.env.REDURABLE_CRASH_POINT;
let remaining = Number(process.env.REDURABLE_CRASH_AFTER ?? 1);

export function crashPoint(point: CrashPoint): void {
  if (target !== point) return;
  if (--remaining > 0) return;
  process.kill(process.pid, 'SIGKILL');
}
