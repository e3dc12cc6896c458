/** What `DurableRuntime.health()` reports (read by the `@nestjs/terminus` indicator in `redurable/health`). */
export interface DurableHealth {
  healthy: boolean;
  /** Each problem in a sentence; empty when healthy. */
  problems: string[];
  redis: { reachable: boolean; latencyMs?: number; error?: string };
  workers: { enabled: boolean; running: number; total: number };
  sweep: { enabled: boolean; lastPassAt?: string; lagging: boolean };
}
