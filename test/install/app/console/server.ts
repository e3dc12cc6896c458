/** The same app over HTTP with the console mounted: runs one greeting and reads the console's pages. */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DurableModule, WorkflowClient } from 'redurable';
import { RedurableConsoleModule } from 'redurable-console';
import { GreetingActivities, GreetingWorkflow, greet } from './greeting.js';

@Module({
  imports: [
    DurableModule.forRoot({ connection: process.env.REDIS_URL!, prefix: process.env.PREFIX }),
    RedurableConsoleModule.forRoot({ boardRoute: '/queues' }),
  ],
  providers: [GreetingActivities, GreetingWorkflow],
})
class AppModule {}

const app = await NestFactory.create(AppModule, { logger: ['error'] });
await app.listen(0, '127.0.0.1');
try {
  const base = await app.getUrl();
  const outcome = await greet(app.get(WorkflowClient), 'greet-http');
  const board = await fetch(`${base}/queues`);
  const boardHtml = await board.text();
  const queues = (await (await fetch(`${base}/queues/api/queues`)).json()) as { queues: { name: string }[] };
  const workflow = (await (await fetch(`${base}/api/workflows/greet-http`)).json()) as { status: string };
  process.stdout.write(
    `${JSON.stringify({
      ...outcome,
      board: {
        status: board.status,
        isBullBoard: boardHtml.includes('<title>Redurable</title>') || boardHtml.includes('bull'),
      },
      queues: queues.queues.map((q) => q.name).sort(),
      workflowStatus: workflow.status,
    })}\n`,
  );
} finally {
  await app.close();
}
