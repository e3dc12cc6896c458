// The app's payload codec of docs/concepts/payloads.md (src/payload-codec.ts there), with what the blocks after it use.
import { Module } from '@nestjs/common';
import { AesGcmCodec, DurableModule, WorkflowClient } from 'redurable';

const codec = new AesGcmCodec({
  keys: [{ id: '2026-12', key: process.env.PAYLOAD_KEY_2026_12! }],
});

/** The app's `WorkflowClient` (inject it in a provider's constructor). */
declare const client: WorkflowClient;
