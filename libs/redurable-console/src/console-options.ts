/** Options of {@link RedurableConsoleModule.forRoot}. */
export interface RedurableConsoleOptions {
  /** Where Bull Board is mounted (below the app's global prefix, if any). @default '/queues' */
  boardRoute?: string;
  /** Title shown in Bull Board's header. @default 'Redurable' */
  boardTitle?: string;
  /** Task queues to show besides those this process serves (for a console that runs no workers). @default [] */
  taskQueues?: string[];
  /** Serve the JSON workflow explorer under `/api/workflows`. @default true */
  explorer?: boolean;
  /** Show the queues without retry, clean or remove buttons. @default false */
  readOnly?: boolean;
}

/** Injection token of the console's options. */
export const CONSOLE_OPTIONS = Symbol('REDURABLE_CONSOLE_OPTIONS');
