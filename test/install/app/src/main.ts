/** A worker-and-client app without the console: runs one greeting and prints what happened. */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DurableModule, WorkflowClient } from 'redurable';
import { GreetingActivities, GreetingWorkflow, greet } from './greeting.js';

@Module({
  imports: [DurableModule.forRoot({ connection: process.env.REDIS_URL!, prefix: process.env.PREFIX })],
  providers: [GreetingActivities, GreetingWorkflow],
})
class AppModule {}

const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error'] });
try {
  const outcome = await greet(app.get(WorkflowClient), 'greet-core');
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
} finally {
  await app.close();
}
