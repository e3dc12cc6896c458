import { InvalidOptionsError } from './errors/library.errors.js';

/** Task queue names become BullMQ queue names and hash tags: letters, digits, _, . and - only. */
export const TASK_QUEUE_NAME = /^[\w.-]{1,100}$/;
export const TASK_QUEUE_MESSAGE = 'task queue names may only hold letters, digits, _, . and - (1 to 100 of them)';

/** Why `name`, given at `where` (an option path), is not a task queue name; undefined when it is one. */
export function taskQueueNameProblem(name: unknown, where: string): string | undefined {
  if (typeof name === 'string' && TASK_QUEUE_NAME.test(name)) return undefined;
  return `${where}: ${JSON.stringify(name)} is not a task queue name: ${TASK_QUEUE_MESSAGE}`;
}

/** Throws an InvalidOptionsError naming `where` when a task queue name cannot be used. */
export function checkTaskQueueName(name: unknown, where: string): string {
  if (typeof name !== 'string' || !TASK_QUEUE_NAME.test(name)) {
    throw new InvalidOptionsError(`${where}: invalid task queue ${JSON.stringify(name)}; ${TASK_QUEUE_MESSAGE}`);
  }
  return name;
}
