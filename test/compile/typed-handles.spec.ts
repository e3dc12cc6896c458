import { describe, expect, test } from '@jest/globals';
import { compile, marked } from './compile-check.js';

/** A workflow class as an app writes it, with a run method not called `run`. */
const workflow = [
  "import { Query, Signal, Update, Workflow, WorkflowRun, WorkflowClient, runMethod } from 'redurable';",
  'interface Receipt { id: string; amount: number }',
  '@Workflow()',
  'export class TransferWorkflow {',
  "  declare readonly [runMethod]: 'transfer';",
  '  private limit = 100;',
  '  @WorkflowRun() async transfer(from: string, amount: number): Promise<Receipt> { return { id: from, amount }; }',
  '  @Signal() approve(approved: boolean): void { void approved; }',
  "  @Query() stage(): 'waiting' | 'done' { return 'waiting'; }",
  '  @Update() async changeLimit(limit: number): Promise<number> { const old = this.limit; this.limit = limit; return old; }',
  '}',
  '@Workflow()',
  'export class PlainWorkflow {',
  '  @WorkflowRun() async run(n: number): Promise<string> { return String(n); }',
  '}',
];

describe('typed handles', () => {
  test('message names and arguments are checked against the class; results are typed from the handlers and the @WorkflowRun method', () => {
    const source = [
      ...workflow,
      'export async function use(client: WorkflowClient): Promise<void> {',
      "  const handle = client.getHandle(TransferWorkflow, 'transfer-1');",
      "  await handle.signal('approve', true);",
      "  const stage: 'waiting' | 'done' = await handle.query('stage');",
      "  const old: number = await handle.executeUpdate('changeLimit', 500);",
      "  const later = await handle.startUpdate('changeLimit', 600);",
      '  const next: number = await later.result();',
      '  const receipt: Receipt = await handle.result();',
      "  const started = await client.start(TransferWorkflow, { workflowId: 't-2', args: ['acc-1', 10] });",
      '  const amount: number = (await started.result()).amount;',
      "  const plain: string = await client.execute(PlainWorkflow, { workflowId: 'p-1', args: [3] });",
      "  const untyped = client.getHandle('any-id');",
      "  await untyped.signal('anything', 1, 2);",
      "  const anyQuery = await untyped.query<string>('whatever');",
      "  await handle.signal('aprove', true); // must not compile",
      "  await handle.signal('approve', 'yes'); // must not compile",
      "  await handle.executeUpdate('changeLimit', '500'); // must not compile",
      "  await handle.executeUpdate('changeLimitt', 500); // must not compile",
      "  const wrong: number = await handle.query('stage'); // must not compile",
      "  const wrongResult: string = await handle.executeUpdate('changeLimit', 1); // must not compile",
      "  await client.start(TransferWorkflow, { workflowId: 't-3', args: ['acc-1', '10'] }); // must not compile",
      '  const notReceipt: string = await started.result(); // must not compile',
      "  await client.start(PlainWorkflow, { workflowId: 'p-2', args: ['3'] }); // must not compile",
      '  void stage; void old; void next; void receipt; void amount; void plain; void anyQuery; void wrong; void wrongResult; void notReceipt;',
      '}',
    ].join('\n');
    const errors = compile(source);
    expect(errors.map((e) => e.line)).toEqual(marked(source));
    expect(errors[0].message).toContain('"aprove"');
  });
});
