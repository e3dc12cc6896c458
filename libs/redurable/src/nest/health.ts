/**
 * `redurable/health`: a `@nestjs/terminus` health indicator (terminus is an optional peer:
 * install it to use this entry point).
 *
 * @packageDocumentation
 *
 * @example
 * @Module({ imports: [TerminusModule], controllers: [HealthController], providers: [RedurableHealthIndicator] })
 * // in HealthController: @Get('health') @HealthCheck() check() { return this.health.check([() => this.redurable.isHealthy()]); }
 */
import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { DurableRuntime } from '../runtime.js';

export type { DurableHealth } from '../core/health-report.js';

/**
 * Up when Redis answers, this process's workers run and its recovery sweep keeps passing;
 * down otherwise, with the problems in `message` and the details under the key.
 */
@Injectable()
export class RedurableHealthIndicator {
  constructor(
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(DurableRuntime) private readonly runtime: DurableRuntime,
  ) {}

  async isHealthy<const Key extends string = 'redurable'>(key: Key = 'redurable' as Key) {
    const session = this.indicators.check(key);
    const { healthy, problems, redis, workers, sweep } = await this.runtime.health();
    const data = { redis, workers, sweep };
    return healthy ? session.up(data) : session.down({ ...data, message: problems.join('; ') });
  }
}
