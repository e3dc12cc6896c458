import { expect, test } from '@jest/globals';
import { compile, marked } from './compile-check.js';

test("an update's validator is typed from its handler's parameters: wrong parameter types do not compile", () => {
  const source = [
    "import { Update, Workflow, WorkflowRun } from 'redurable';",
    'class Limit { constructor(readonly amount: number) {} }',
    '@Workflow()',
    'export class LimitWorkflow {',
    '  private limit = 100;',
    '  @WorkflowRun() async run(): Promise<number> { return this.limit; }',
    '  @Update({ validator(limit: number) { if (limit <= 0) throw new Error("positive"); } })',
    '  async changeLimit(limit: number): Promise<number> { const old = this.limit; this.limit = limit; return old; }',
    '  @Update({ validator(limit: number, reason?: string) { void limit; void reason; } })',
    '  async changeWithReason(limit: number, reason?: string): Promise<void> { this.limit = limit; void reason; }',
    '  @Update({ validator(limit: Limit) { void limit.amount; } })',
    '  async setLimit(limit: Limit): Promise<void> { this.limit = limit.amount; }',
    '  @Update({ validator(limit: number) { void limit; } }) // fewer parameters than the handler: fine',
    '  async twoArgs(limit: number, note: string): Promise<void> { this.limit = limit; void note; }',
    '  @Update({ validator(this: LimitWorkflow, limit: number) { void this.limit; void limit; } })',
    '  async withThis(limit: number): Promise<void> { this.limit = limit; }',
    '  @Update({ validator(limit) { void limit; } })',
    '  async unannotated(limit: number): Promise<void> { this.limit = limit; }',
    "  @Update({ name: 'plain' })",
    '  async noValidator(limit: number): Promise<void> { this.limit = limit; }',
    '  @Update()',
    '  async bare(): Promise<void> {}',
    '  @Update({ validator(limit: string) { void limit; } }) // must not compile',
    '  async wrongType(limit: number): Promise<void> { this.limit = limit; }',
    '  @Update({ validator(limit: number, reason: number) { void limit; void reason; } }) // must not compile',
    '  async wrongSecond(limit: number, reason: string): Promise<void> { this.limit = limit; void reason; }',
    '  @Update({ validator(limit: Limit) { void limit; } }) // must not compile',
    '  async notTheClass(limit: { other: string }): Promise<void> { void limit; }',
    '}',
  ].join('\n');
  const errors = compile(source);
  expect(errors.map((e) => e.line)).toEqual(marked(source));
  expect(errors[0].message).toContain("the validator's parameters do not match the update handler's");
});
