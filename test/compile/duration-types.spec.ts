import { describe, expect, test } from '@jest/globals';
import { compile, marked } from './compile-check.js';

describe('typed durations', () => {
  test("'30s', '3 days', 500 compile; '3 weeks', 'soon' and a plain string do not", () => {
    const source = [
      "import { type Duration } from 'redurable';",
      "import { sleep, condition, proxyActivities } from 'redurable/workflow';",
      'export async function flow(text: string): Promise<void> {',
      "  await sleep('30s');",
      "  await sleep('3 days');",
      '  await sleep(500);',
      "  await sleep('1.5h');",
      "  await sleep('250 ms');",
      "  await condition(() => true, '2 minutes');",
      "  const ok: Duration = '10 Seconds';",
      "  await sleep('3 weeks'); // must not compile",
      "  await sleep('soon'); // must not compile",
      '  await sleep(text); // must not compile',
      "  const bad: Duration = '5 fortnights'; // must not compile",
      '  void ok; void bad; void proxyActivities;',
      '}',
    ].join('\n');
    const errors = compile(source);
    expect(errors.map((e) => e.line)).toEqual(marked(source));
    expect(errors[0].message).toContain('"3 weeks"');
  });
});
