import type { Logger } from '../core/ports/logger.js';
import { workflowStorage } from './context.js';

/** The levels of `workflowLogger()`. */
export type LogLevel = 'log' | 'warn' | 'error' | 'debug';

interface Line {
  level: LogLevel;
  message: string;
  stack?: string;
  /** The history event the code was running on when it logged the line. */
  streamId: string;
}

/** Where the code stands: the event it runs on, and whether it is still behind its recorded commands. */
type Position = () => { streamId: string; replaying: boolean };

/**
 * Where the `workflowLogger()` lines of one execution go, each printed once. While the code is
 * behind its recorded commands it re-runs what a committed task already ran: those lines are
 * dropped. Past them, an execution rebuilt from a history (after a restart, an eviction, a failed
 * task) cannot tell yet whether a committed task already ran an event with no command after it
 * (a line logged before waiting for a signal): it holds those lines until the runner reads which
 * event the last committed task had reached (`release`), then prints those of later events.
 * A task that fails before it commits has its lines printed again by its retry.
 */
export class ReplayLog {
  /** Every execution starts by replaying the history it is given: lines are held until `release`. */
  private held?: Line[] = [];

  constructor(
    private readonly logger: Logger | undefined,
    private readonly position: Position,
  ) {}

  write(level: LogLevel, message: string, stack?: string): void {
    const { streamId, replaying } = this.position();
    if (!this.logger || replaying) return;
    const line = { level, message, stack, streamId };
    if (this.held) this.held.push(line);
    else this.print(line);
  }

  /**
   * Prints the held lines of events after `seenThrough()` (all of them when it is unknown: a
   * line twice rather than never), and from now on prints lines as they come.
   */
  async release(seenThrough: () => Promise<string | undefined>): Promise<void> {
    const held = this.held;
    this.held = undefined;
    if (!held?.length) return;
    const seen = await seenThrough().catch(() => undefined);
    for (const line of held) if (seen === undefined || compareStreamIds(line.streamId, seen) > 0) this.print(line);
  }

  /** The app's logger, outside workflow code: it may write to a file or the network. */
  private print({ level, message, stack }: Line): void {
    const logger = this.logger!;
    workflowStorage.exit(() => {
      if (level === 'error') logger.error(message, stack);
      else if (level === 'debug') logger.debug?.(message);
      else logger[level](message);
    });
  }
}

/** Orders Redis stream ids (`<ms>-<seq>`). */
function compareStreamIds(a: string, b: string): number {
  const [am, as = '0'] = a.split('-');
  const [bm, bs = '0'] = b.split('-');
  return Number(am) - Number(bm) || Number(as) - Number(bs);
}
