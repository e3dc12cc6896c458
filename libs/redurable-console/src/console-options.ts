import type { CanActivate, Type } from '@nestjs/common';

/** Who may use the console: a Nest guard (class or instance), or a function of the (Express) request. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the Express request, without making express's types a peer
export type ConsoleAuth = ((request: any) => boolean | Promise<boolean>) | CanActivate | Type<CanActivate>;

/** Options of {@link RedurableConsoleModule.forRoot}. */
export interface RedurableConsoleOptions {
  /** Where Bull Board is mounted (below the app's global prefix, if any). @default '/queues' */
  boardRoute?: string;
  /** Title shown in Bull Board's header and the explorer's. @default 'Redurable' */
  boardTitle?: string;
  /** Task queues to show besides those this process serves (for a console that runs no workers). @default [] */
  taskQueues?: string[];
  /** Serve the workflow explorer: its pages at `explorerRoute` and its JSON API under `/api/workflows`. @default true */
  explorer?: boolean;
  /** Where the explorer's pages are served. @default '/workflows' */
  explorerRoute?: string;
  /** Where the explorer's schedule pages (list, one schedule) are served. @default '/schedules' */
  schedulesRoute?: string;
  /**
   * Who may use the console (explorer pages, its API and Bull Board): a Nest guard (class or
   * instance) or a function of the request returning true to allow. Without it the console is
   * open to whoever reaches the server, and says so once at boot.
   */
  auth?: ConsoleAuth;
  /** Hide the explorer's signal, cancel and terminate actions (its API refuses them with 403) and Bull Board's retry, clean and remove buttons. @default false */
  readOnly?: boolean;
}

/** Injection token of the console's options. */
export const CONSOLE_OPTIONS = Symbol('REDURABLE_CONSOLE_OPTIONS');
