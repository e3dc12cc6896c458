/**
 * An app compiled without `emitDecoratorMetadata`: TypeScript then emits the decorators but no
 * `design:paramtypes`, which is what applying them by hand below does. A class-validator DTO
 * argument could not be validated, so such an app that declares class-validator rules must not
 * boot; one that declares none, or whose handlers take no parameters, boots as before.
 *
 * class-validator keeps its rules in one store per test file, and a DTO class registers its
 * rules when its declaration runs: the first test runs before any DTO is declared, so the order
 * of the tests matters here.
 */
import { afterEach, expect, test } from '@jest/globals';
import { IsPositive } from 'class-validator';
import { InvalidWorkflowClassError, Signal, Update, Workflow, WorkflowRun } from 'redurable';
import { createTestApp, type TestApp } from '../support/test-app.js';

/** Decorates a method as TypeScript does without emitDecoratorMetadata (no design:* metadata). */
function decorate(cls: { prototype: object }, method: string, decorator: MethodDecorator): void {
  decorator(cls.prototype, method, Object.getOwnPropertyDescriptor(cls.prototype, method)!);
}

class OrderWorkflow {
  private approved = false;
  async run(order: { amount: number }): Promise<string> {
    return `order of ${order.amount}${this.approved ? ', approved' : ''}`;
  }
  approve(by: string): void {
    this.approved = by.length > 0;
  }
  async setLimit(limit: number): Promise<number> {
    return limit;
  }
}
Workflow({ taskQueue: 'no-metadata' })(OrderWorkflow);
decorate(OrderWorkflow, 'run', WorkflowRun());
decorate(OrderWorkflow, 'approve', Signal());
decorate(OrderWorkflow, 'setLimit', Update() as MethodDecorator);

/** Handlers without parameters need no types. */
class TickWorkflow {
  async run(): Promise<string> {
    return 'tick';
  }
}
Workflow({ taskQueue: 'no-metadata' })(TickWorkflow);
decorate(TickWorkflow, 'run', WorkflowRun());

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

test('an app that declares no class-validator rules boots without decorator metadata, and runs its workflows', async () => {
  t = await createTestApp([OrderWorkflow, TickWorkflow]);
  await expect(t.client.execute(OrderWorkflow, { workflowId: 'o-1', args: [{ amount: 5 }] })).resolves.toBe(
    'order of 5',
  );
});

test('an app with class-validator DTOs does not boot without decorator metadata: the error names the class, the methods and the fix', async () => {
  class OrderDto {
    @IsPositive() amount!: number;
  }
  void OrderDto;
  const boot = createTestApp([OrderWorkflow]);
  await expect(boot).rejects.toThrow(InvalidWorkflowClassError);
  await expect(boot).rejects.toThrow(
    'Workflow OrderWorkflow: the parameter types of run() (@WorkflowRun), approve() (@Signal), setLimit() (@Update) are not known at run time, ' +
      'so a class-validator DTO argument would not be validated and a class argument would arrive as a plain object. ' +
      'The app is compiled without decorator metadata: set "emitDecoratorMetadata": true (with "experimentalDecorators": true) in tsconfig.json ' +
      '(with SWC, jsc.transform.decoratorMetadata: true; esbuild, tsx and Vite do not emit it)',
  );
  // Handlers that take no parameters are fine either way.
  t = await createTestApp([TickWorkflow]);
  await expect(t.client.execute(TickWorkflow, { workflowId: 'tick-1' })).resolves.toBe('tick');
});
