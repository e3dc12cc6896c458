import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Query, Signal, Update, Workflow, WorkflowRun } from 'redurable';
import { allHandlersFinished, condition } from 'redurable/workflow';
import { createTestApp, testRedisUrl, type TestApp } from '../support/test-app.js';

/** The `redurable` command as a user runs it: the package's compiled bin, in its own process (without any workflow class). */
const BIN = fileURLToPath(new URL('../../libs/redurable/dist/cli/main.js', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function redurable(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const { REDIS_URL: _omit, ...env } = process.env;
    execFile(process.execPath, [BIN, ...args], { env, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

@Workflow({ taskQueue: 'cli-messages' })
class CartWorkflow {
  private items: { sku: string; qty: number }[] = [];
  private checkedOut = false;

  @WorkflowRun()
  async run(): Promise<number> {
    await condition(() => this.checkedOut);
    await condition(allHandlersFinished);
    return this.items.length;
  }

  @Query() contents(filter?: string) {
    return filter ? this.items.filter((i) => i.sku.startsWith(filter)) : this.items;
  }

  @Update({
    validator(this: CartWorkflow, item: { sku: string; qty: number }) {
      if (!(item?.qty > 0)) throw new Error(`qty must be positive (got ${item?.qty})`);
    },
  })
  async add(item: { sku: string; qty: number }): Promise<number> {
    this.items.push(item);
    return this.items.length;
  }

  @Signal() checkout(): void {
    this.checkedOut = true;
  }
}

let t: TestApp;
let flags: string[];

beforeAll(async () => {
  t = await createTestApp([CartWorkflow]);
  flags = ['--redis', testRedisUrl(), '--prefix', t.prefix];
  await t.client.start(CartWorkflow, { workflowId: 'cart-1' });
});

afterAll(async () => {
  await t?.close();
});

describe('redurable workflow query and update (answered by a worker: the command line has no workflow class)', () => {
  test('update prints the handler result, query prints the state as JSON; arguments are JSON', async () => {
    const added = await redurable(['workflow', 'update', 'cart-1', 'add', '{"sku":"apple","qty":2}', ...flags]);
    expect(added).toMatchObject({ code: 0, stdout: '1\n' });
    const again = await redurable([
      'workflow',
      'update',
      'cart-1',
      'add',
      '{"sku":"pear","qty":1}',
      '--update-id',
      'add-pear',
      '--json',
      ...flags,
    ]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ workflowId: 'cart-1', updateId: 'add-pear', result: 2 });
    // The same update id again: recorded once, its result printed again.
    const dup = await redurable([
      'workflow',
      'update',
      'cart-1',
      'add',
      '{"sku":"pear","qty":1}',
      '--update-id',
      'add-pear',
      ...flags,
    ]);
    expect(dup).toMatchObject({ code: 0, stdout: '2\n' });

    const all = await redurable(['workflow', 'query', 'cart-1', 'contents', ...flags]);
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout)).toEqual([
      { sku: 'apple', qty: 2 },
      { sku: 'pear', qty: 1 },
    ]);
    const { runId } = await t.client.getHandle('cart-1').describe();
    const filtered = await redurable([
      'workflow',
      'query',
      'cart-1',
      'contents',
      '"pe"',
      '--run-id',
      runId,
      '--json',
      ...flags,
    ]);
    expect(JSON.parse(filtered.stdout)).toEqual({ result: [{ sku: 'pear', qty: 1 }] });

    const history = await t.client.getHandle('cart-1').fetchHistory();
    expect(history.filter((e) => e.type === 'WorkflowUpdateAccepted')).toHaveLength(2);
  });

  test("the worker's refusals, with their messages and exit codes", async () => {
    const rejected = await redurable(['workflow', 'update', 'cart-1', 'add', '{"sku":"fig","qty":0}', ...flags]);
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toBe(
      "redurable: Update 'add' of workflow 'cart-1' was rejected by its validator: qty must be positive (got 0). Nothing was recorded\n",
    );
    const unknown = await redurable(['workflow', 'query', 'cart-1', 'total', ...flags]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(
      "redurable: Workflow 'CartWorkflow' has no query 'total': known queries are contents\n",
    );
    const noRun = await redurable(['workflow', 'query', 'cart-1', 'contents', '--run-id', 'no-such-run', ...flags]);
    expect(noRun.code).toBe(3);
    const notFound = await redurable(['workflow', 'query', 'cart-nobody', 'contents', ...flags]);
    expect(notFound.code).toBe(3);
    const badJson = await redurable(['workflow', 'update', 'cart-1', 'add', '{sku:fig}', ...flags]);
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toContain('argument 1 ({sku:fig}) is not JSON');
  });

  test('no worker serving the task queue: exit 8 within --timeout, naming the workflow, run, name and task queue', async () => {
    const other = await createTestApp([CartWorkflow]);
    const started = await other.client.start(CartWorkflow, { workflowId: 'cart-orphan' });
    await other.close();
    const own = ['--redis', testRedisUrl(), '--prefix', other.prefix, '--timeout', '1s'];
    const query = await redurable(['workflow', 'query', 'cart-orphan', 'contents', ...own]);
    expect(query.code).toBe(8);
    expect(query.stderr).toContain(
      `redurable: No worker serving task queue 'cli-messages' answered query 'contents' of workflow 'cart-orphan' (run ${started.runId}) within 1000 ms.`,
    );
    const update = await redurable(['workflow', 'update', 'cart-orphan', 'add', '{"sku":"kiwi","qty":1}', ...own]);
    expect(update.code).toBe(8);
    expect(update.stderr).toContain('Nothing was recorded');
  });
});
