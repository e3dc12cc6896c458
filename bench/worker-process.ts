/**
 * One worker process of the scale-out benchmark (scale-out.ts): the bench app with workers on,
 * on the connection and prefix it is given (env BENCH_CONNECTION: a redis:// URL or
 * `{ "cluster": [...] }` JSON; BENCH_PREFIX). Prints "ready" once its workers run; SIGTERM drains it.
 */
import { startBenchApp } from './redurable-chain.js';

const raw = process.env.BENCH_CONNECTION!;
const connection = raw.startsWith('{') ? (JSON.parse(raw) as { cluster: { host: string; port: number }[] }) : raw;
const app = await startBenchApp(connection, process.env.BENCH_PREFIX!);
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
