import { afterEach, describe, expect, test } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Activities, Activity, CorruptHistoryError, Signal, Workflow, WorkflowRun, type PayloadCodec } from 'redurable';
import { condition, proxyActivities } from 'redurable/workflow';
import { createTestApp, type TestApp, keyNames } from '../support/test-app.js';
import { until } from '../support/until.js';

@Injectable()
@Activities()
class EchoActivities {
  @Activity() async echo(text: string): Promise<string> {
    return `echo ${text}`;
  }
}

@Workflow({ taskQueue: 'corrupt' })
class WaitingWorkflow {
  private readonly acts = proxyActivities(EchoActivities);
  private go = false;

  @WorkflowRun()
  async run(text: string, wait: boolean): Promise<string> {
    if (wait) await condition(() => this.go);
    return this.acts.echo(text);
  }

  @Signal() release() {
    this.go = true;
  }
}

/** A codec that tags payloads with its key and refuses payloads written with another key. */
function keyedCodec(key: string): PayloadCodec {
  return {
    encode: (json) => `${key}:${Buffer.from(json).toString('base64')}`,
    decode: (stored) => {
      const at = stored.indexOf(':');
      if (stored.slice(0, at) !== key)
        throw new Error(`payload was written with key '${stored.slice(0, at)}', this process has '${key}'`);
      return Buffer.from(stored.slice(at + 1), 'base64').toString();
    },
  };
}

const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

describe('a history the worker cannot read is reported, not a bare SyntaxError', () => {
  test('a corrupt stream entry: typed error from fetchHistory, task failure in describe(), other workflows unaffected', async () => {
    const t = await createTestApp([EchoActivities, WaitingWorkflow]);
    apps.push(t);
    const handle = await t.client.start(WaitingWorkflow, { workflowId: 'corrupt-1', args: ['a', true] });
    await until(
      'the first task',
      async () =>
        (await handle.describe()).historyLength >= 1 &&
        !(await handle.describe()).taskFailure &&
        (await t.redis.hget(keyNames(t.prefix).meta('corrupt-1'), 'lease')) === '',
    );
    // Something (a bad restore, a hand edit) leaves an entry that is not JSON in the stream.
    const metaKey = keyNames(t.prefix).meta('corrupt-1');
    const len = await t.redis.hincrby(metaKey, 'len', 1);
    const entryId = (await t.redis.xadd(
      keyNames(t.prefix).history('corrupt-1', handle.runId!),
      '*',
      'i',
      String(len),
      'e',
      '{"type":"SignalReceived","signalName":',
    ))!;
    await handle.signal('release'); // wakes a workflow task, which reads the stream

    const described = await until(
      'the task failure',
      async () => (await handle.describe()).taskFailure && handle.describe(),
    );
    expect(described.status).toBe('running');
    expect(described.taskFailure!.message).toContain(
      `CorruptHistoryError: History of workflow 'corrupt-1' (run ${handle.runId}) is corrupt at stream entry ${entryId}`,
    );
    expect(described.taskFailure!.message).toContain('is not valid JSON');
    expect(described.taskFailure!.attempt).toBeGreaterThanOrEqual(1);
    expect(described.taskFailure!.retryAt).toBeInstanceOf(Date);

    const error = await handle.fetchHistory().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(CorruptHistoryError);
    expect(error).toMatchObject({ workflowId: 'corrupt-1', runId: handle.runId, streamEntryId: entryId });

    // Other workflows on the same worker go on; an operator can still end the broken one.
    expect(await t.client.execute(WaitingWorkflow, { workflowId: 'corrupt-neighbour', args: ['b', false] })).toBe(
      'echo b',
    );
    await handle.terminate('history corrupt');
    expect((await handle.describe()).status).toBe('terminated');
  });

  test("an input the worker's codec cannot decode is a retried task failure, and a worker with the right codec resumes it", async () => {
    const client = await createTestApp([EchoActivities, WaitingWorkflow], {
      worker: false,
      payloadCodec: keyedCodec('k1'),
    });
    apps.push(client);
    const wrongKey = await createTestApp([EchoActivities, WaitingWorkflow], {
      prefix: client.prefix,
      payloadCodec: keyedCodec('k2'),
    });
    apps.push(wrongKey);
    const handle = client.client.getHandle<string>('undecodable-1');
    await client.client.start(WaitingWorkflow, { workflowId: 'undecodable-1', args: ['c', false] });

    const described = await until(
      'the task failure',
      async () => (await handle.describe()).taskFailure && handle.describe(),
    );
    expect(described.status).toBe('running');
    expect(described.taskFailure!.message).toContain(
      "Cannot decode argument 1 of workflow 'WaitingWorkflow' input of workflow 'undecodable-1'",
    );
    expect(described.taskFailure!.message).toContain("payload was written with key 'k1', this process has 'k2'");

    await wrongKey.close();
    apps.splice(apps.indexOf(wrongKey), 1);
    apps.push(
      await createTestApp([EchoActivities, WaitingWorkflow], { prefix: client.prefix, payloadCodec: keyedCodec('k1') }),
    );
    expect(await handle.result()).toBe('echo c');
    expect((await handle.describe()).taskFailure).toBeUndefined();
  });
});
