/**
 * The workload of the headline table: latency at concurrency 1 of workflows of N trivial
 * steps, the marginal cost of a step, throughput with 64 lanes, and fsync'd writes per step.
 * A system is measured through a `Chain` (start a chain of N steps, resolve when its result is
 * in hand), so Redurable and the raw BullMQ chain run the same driver.
 */
import { countFsyncs } from './fsyncs.js';
import { fixedCount, percentile, timeIt } from './stats.js';

/** Runs one chain of `steps` steps named `id` and resolves when its result is in hand. */
export type Chain = (id: string, steps: number) => Promise<void>;

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

export interface WorkloadSizes {
  /** Chain lengths timed at concurrency 1. */
  lengths: number[];
  /** Workflows timed per length, after `warmUp` ten-step ones. */
  perLength: number;
  warmUp: number;
  /** Throughput: lanes in flight, workflows of `tpSteps` steps, after `tpWarmUp` of them. */
  lanes: number;
  tpSteps: number;
  tpWarmUp: number;
  tpTotal: number;
}

export interface WorkloadResult {
  latency: Map<number, Percentiles>;
  /** (p50 of the longest − p50 of the shortest) / steps between: the cost of one more step. */
  perStepMs: number;
  stepsPerSecond: number;
  /** fsync'd writes of one more step, and of one whole `tpSteps`-step workflow (undefined: not counted). */
  fsyncsPerStep?: number;
  fsyncsPerWorkflow?: number;
}

const percentiles = (xs: number[]): Percentiles => ({
  p50: percentile(xs, 50),
  p95: percentile(xs, 95),
  p99: percentile(xs, 99),
});

/** Measures one system; `tag` keeps workflow ids apart; `fsyncUrl` turns on fsync counting (AOF). */
export async function measure(
  chain: Chain,
  tag: string,
  sizes: WorkloadSizes,
  fsyncUrl?: string,
): Promise<WorkloadResult> {
  await fixedCount(1, sizes.warmUp, (n) => chain(`${tag}-warm-${n}`, 10));
  const latency = new Map<number, Percentiles>();
  for (const n of sizes.lengths) {
    const times: number[] = [];
    for (let i = 0; i < sizes.perLength; i++) times.push(await timeIt(() => chain(`${tag}-n${n}-${i}`, n)));
    latency.set(n, percentiles(times));
  }
  const shortest = Math.min(...sizes.lengths);
  const longest = Math.max(...sizes.lengths);
  const perStepMs = (latency.get(longest)!.p50 - latency.get(shortest)!.p50) / (longest - shortest);

  await fixedCount(sizes.lanes, sizes.tpWarmUp, (n) => chain(`${tag}-tpw-${n}`, sizes.tpSteps));
  // Closed loop: each lane starts its next workflow as soon as its last one ended.
  const elapsedMs = await timeIt(() =>
    fixedCount(sizes.lanes, sizes.tpTotal, (n) => chain(`${tag}-tp-${n}`, sizes.tpSteps)),
  );
  const stepsPerSecond = (sizes.tpTotal * sizes.tpSteps) / (elapsedMs / 1000);

  let fsyncsPerStep: number | undefined;
  let fsyncsPerWorkflow: number | undefined;
  if (fsyncUrl) {
    const count = (id: string, steps: number) => countFsyncs(fsyncUrl, () => chain(`${tag}-fs-${id}`, steps));
    const one = await count('one', sizes.tpSteps);
    const short = await count('short', 10);
    const long = await count('long', 50);
    fsyncsPerWorkflow = one;
    fsyncsPerStep = short === undefined || long === undefined ? undefined : (long - short) / 40;
  }
  return { latency, perStepMs, stepsPerSecond, fsyncsPerStep, fsyncsPerWorkflow };
}
