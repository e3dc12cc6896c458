import { describe, expect, test } from '@jest/globals';
import * as errors from '../core/errors/index.js';
import { ERROR_STATUSES, httpStatusOf } from './error-statuses.js';

const libraryErrors = Object.entries(errors).filter(
  ([, value]) => typeof value === 'function' && value.prototype instanceof errors.RedurableError,
);

describe('ERROR_STATUSES', () => {
  test('gives every library error a status of its own (a new error must be placed, and listed in docs/reference/errors.md)', () => {
    const listed = new Set(ERROR_STATUSES.map(([type]) => type));
    expect(libraryErrors.filter(([, type]) => !listed.has(type as never)).map(([name]) => name)).toEqual([]);
  });

  test('a subclass gets its own status, not its parent’s', () => {
    expect(httpStatusOf(new errors.PayloadTooLargeError('too big'))).toBe(413);
    expect(httpStatusOf(new errors.PayloadError('undecodable'))).toBe(400);
    expect(httpStatusOf(new errors.WorkflowNotFoundError('w'))).toBe(404);
    expect(httpStatusOf(new errors.RedurableError('anything else'))).toBe(500);
  });
});

describe("the errors reference's summary table", () => {
  test('lists every library error with the status the filter answers', async () => {
    const { readFile } = await import('node:fs/promises');
    const page = await readFile(new URL('../../../../docs/reference/errors.md', import.meta.url), 'utf8');
    // | [`WorkflowNotFoundError`](#workflownotfounderror) | 404 | 3 |
    const rows = page.split('\n').filter((line) => /^\| \[`[A-Za-z]+Error`\]/.test(line));
    const missing = ERROR_STATUSES.filter(
      ([type, status]) => !rows.some((row) => row.includes(`[\`${type.name}\`]`) && row.includes(`| ${status} |`)),
    ).map(([type, status]) => `${type.name} ${status}`);
    expect(missing).toEqual([]);
  });
});
