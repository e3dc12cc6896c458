import { afterEach, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RedurableConsoleModule } from 'redurable-console';
import {
  AesGcmCodec,
  Activities,
  Activity,
  DurableModule,
  Signal,
  Workflow,
  WorkflowRun,
  type PayloadCodec,
} from 'redurable';
import { condition, proxyActivities } from 'redurable/workflow';
import { cliConnectionFlags, createTestApp, keysUnder, testConnection, type TestApp } from '../support/test-app.js';

const BIN = fileURLToPath(new URL('../../libs/redurable/dist/cli/main.js', import.meta.url));
/** Inside the repository, so that the module's `import 'redurable'` resolves. */
const OUTPUT = fileURLToPath(new URL('../../dist/test-output/encryption/', import.meta.url));

@Injectable()
@Activities()
class CardActivities {
  @Activity() async charge(card: string, amount: number): Promise<string> {
    return `charged ${amount} to ${card}`;
  }
}

@Workflow({ taskQueue: 'encrypted' })
class ChargeWorkflow {
  private readonly acts = proxyActivities(CardActivities);
  private confirmedBy?: string;

  @WorkflowRun()
  async run(card: string, amount: number) {
    await condition(() => this.confirmedBy !== undefined);
    return { receipt: await this.acts.charge(card, amount), confirmedBy: this.confirmedBy };
  }

  @Signal() confirm(by: string) {
    this.confirmedBy = by;
  }
}

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');
const CARD = '4111-1111-1111-1111';

/** Every value stored under the prefix: streams, hashes (job data), strings, as one text. */
async function everythingStored(t: TestApp): Promise<string> {
  const parts: string[] = [];
  for (const key of await keysUnder(t.redis, t.prefix)) {
    const type = await t.redis.type(key);
    if (type === 'stream') parts.push(JSON.stringify(await t.redis.xrange(key, '-', '+')));
    else if (type === 'hash') parts.push(JSON.stringify(await t.redis.hgetall(key)));
    else if (type === 'string') parts.push((await t.redis.get(key)) ?? '');
  }
  return parts.join('\n');
}

function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

describe('payload encryption with AesGcmCodec', () => {
  test('Redis holds no readable payload; a rotated key set reads old payloads and writes with the new key; the CLI decodes with the codec, and says "encrypted" without it', async () => {
    const first = await createTestApp([CardActivities, ChargeWorkflow], {
      payloadCodec: new AesGcmCodec({ keys: [{ id: 'k1', key: k1 }] }),
    });
    apps.push(first);
    const handle = await first.client.start(ChargeWorkflow, { workflowId: 'charge-1', args: [CARD, 4200] });
    await handle.signal('confirm', 'grace');
    expect(await handle.result()).toEqual({ receipt: `charged 4200 to ${CARD}`, confirmedBy: 'grace' });
    const stored = await everythingStored(first);
    expect(stored).toContain('aes256gcm:k1:');
    expect(stored).not.toContain(CARD);
    expect(stored).not.toContain('grace');

    // A second workflow waits while the keys rotate: k2 encrypts from now on, k1 still decodes.
    await first.client.start(ChargeWorkflow, { workflowId: 'charge-2', args: [CARD, 99] });
    await first.close();
    apps.splice(0);
    const rotated = await createTestApp([CardActivities, ChargeWorkflow], {
      prefix: first.prefix,
      payloadCodec: new AesGcmCodec({
        keys: [
          { id: 'k2', key: k2 },
          { id: 'k1', key: k1 },
        ],
        encryptWith: 'k2',
      }),
    });
    apps.push(rotated);
    const second = rotated.client.getHandle('charge-2');
    await second.signal('confirm', 'hopper');
    expect(await second.result()).toEqual({ receipt: `charged 99 to ${CARD}`, confirmedBy: 'hopper' });
    const history = await second.fetchHistory();
    const signal = history.find((e) => e.type === 'SignalReceived')!;
    expect(signal.type === 'SignalReceived' && signal.input[0]).toMatch(/^aes256gcm:k2:/);
    expect(history[0].type === 'WorkflowExecutionStarted' && history[0].input[0]).toMatch(/^aes256gcm:k1:/);

    // The command line, without the keys and with them.
    const flags = ['workflow', 'show', 'charge-2', ...cliConnectionFlags(), '--prefix', first.prefix];
    const blind = await cli(flags);
    expect(blind.code).toBe(0);
    expect(blind.stdout).toMatch(
      /signal confirm\s+received\s+\(<encrypted with key 'k2': pass the app's codec with --codec to see it>\)/,
    );
    expect(blind.stdout).not.toContain(CARD);
    const described = await cli([
      'workflow',
      'describe',
      'charge-2',
      ...cliConnectionFlags(),
      '--prefix',
      first.prefix,
    ]);
    expect(described.stdout).toMatch(/Result\s+<encrypted with key 'k2'/);
    mkdirSync(OUTPUT, { recursive: true });
    const codecModule = `${OUTPUT}codec.mjs`;
    writeFileSync(
      codecModule,
      "import { AesGcmCodec } from 'redurable';\nexport default new AesGcmCodec({ keys: [{ id: 'k2', key: process.env.K2 }, { id: 'k1', key: process.env.K1 }] });\n",
    );
    const seeing = await cli([...flags, '--codec', codecModule], { K1: k1, K2: k2 });
    expect(seeing.stdout).toMatch(/signal confirm\s+received\s+\("hopper"\)/);
    expect(seeing.stdout).toContain(`-> "charged 99 to ${CARD}"`);
  });

  test("the explorer shows payloads decoded with the app's codec, and says they are encrypted where the server lacks the key", async () => {
    const worker = await createTestApp([CardActivities, ChargeWorkflow], {
      payloadCodec: new AesGcmCodec({ keys: [{ id: 'k1', key: k1 }] }),
    });
    apps.push(worker);
    const handle = await worker.client.start(ChargeWorkflow, { workflowId: 'charge-explored', args: [CARD, 7] });
    await handle.signal('confirm', 'ada');
    await handle.result();

    const consoleApp = async (payloadCodec?: PayloadCodec): Promise<{ url: string; app: INestApplication }> => {
      @Module({
        imports: [
          DurableModule.forRoot({
            connection: testConnection(),
            prefix: worker.prefix,
            worker: false,
            logger: false,
            ...(payloadCodec ? { payloadCodec } : {}),
          }),
          RedurableConsoleModule.forRoot({ auth: () => true }),
        ],
      })
      class ConsoleApp {}
      const app = await NestFactory.create(ConsoleApp, { logger: false });
      await app.listen(0, '127.0.0.1');
      return { app, url: `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}` };
    };
    const blind = await consoleApp();
    const seeing = await consoleApp(new AesGcmCodec({ keys: [{ id: 'k1', key: k1 }] }));
    try {
      const without = await (await fetch(`${blind.url}/workflows/charge-explored`)).text();
      expect(without).toContain('encrypted with key &#39;k1&#39; (this server does not have it)');
      expect(without).not.toContain(CARD);
      const withKey = await (await fetch(`${seeing.url}/workflows/charge-explored`)).text();
      expect(withKey).toContain(CARD);
      expect(withKey).toContain(`charged 7 to ${CARD}`);
    } finally {
      await blind.app.close();
      await seeing.app.close();
    }
  });
});
