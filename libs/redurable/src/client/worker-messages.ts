import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { handlerNamed } from '../core/definitions/registry.js';
import { fromWireError, toWireError, type WireError } from '../core/errors/error-wire.js';
import { QueryUnavailableError } from '../core/errors/id-policy.errors.js';
import { WorkflowNotFoundError } from '../core/errors/library.errors.js';
import { NoWorkerAnsweredError, type WorkerMessageKind } from '../core/errors/remote.errors.js';
import { UpdateUnavailableError } from '../core/errors/update.errors.js';
import type { WorkflowMeta } from '../core/workflow-state.js';
import type { WorkflowActivation } from '../workflow/activation.js';
import { withDeterminism } from '../workflow/determinism.js';
import type { ClientParts } from './client-parts.js';
import { replayRun } from './replay-run.js';
import { acceptUpdate } from './workflow-updates.js';

/**
 * How late (by the worker's clock) a message may be taken after its sender's deadline: the
 * clocks of two machines may differ a little. Later, its sender has given up (or died), and it
 * is dropped without an answer, so an abandoned update is never recorded long after.
 */
const DEADLINE_SLACK_MS = 5000;

/** How long the claim on a message (store/worker-messages.ts) is kept: past any copy of it still on the list. */
const CLAIM_TTL_MS = 10 * 60_000;

/** A query or update a process without the workflow's class asks a worker for. */
interface MessageRequest {
  id: string;
  kind: WorkerMessageKind;
  workflowId: string;
  /** The run queried; for an update, the run the sender saw (the worker records it in the current run). */
  runId: string;
  name: string;
  /** The arguments, encoded with the sender's codec. */
  input: string[];
  updateId?: string;
  /** The sender's reply channel. */
  replyTo: string;
  /** When the sender stops waiting (its clock, ms since the epoch). */
  deadline: number;
}

/** A worker's answer: the query's result (encoded), the run that accepted the update, or what was thrown. */
type MessageReply =
  { ok: true; value?: string; runId?: string; worker: string } | { ok: false; error: WireError; worker: string };

/** Runs `fn` on a worker's cached execution of a run when it holds one that no task is using (see WorkflowTaskRunner). */
export type IdleCachedExecution = <T>(
  workflowId: string,
  runId: string,
  fn: (activation: WorkflowActivation) => Promise<T>,
) => Promise<{ value: T } | undefined>;

/** The parts the sending side uses. */
export type SenderParts = Pick<ClientParts, 'link' | 'converter' | 'messages'>;

/** The message list of the workers of `build` on a task queue: they answer for the runs pinned to it. */
export function buildMailbox(taskQueue: string, build: string): string {
  return `${taskQueue}@${build}`;
}

/**
 * Asks a worker serving the workflow's task queue (of its build, for a pinned run) to run a query or to validate and record an
 * update, for a process that does not register the workflow's class, and waits for its answer
 * for `connectTimeout`. What the worker threw is thrown here, as the same library error class.
 */
export async function askWorker(
  parts: SenderParts,
  meta: WorkflowMeta,
  message: { kind: WorkerMessageKind; runId: string; name: string; args: unknown[]; updateId?: string },
): Promise<{ value?: unknown; runId?: string }> {
  const { link, converter, messages } = parts;
  const { workflowId, taskQueue } = meta;
  // A pinned run's messages go to the workers of its build (see WorkerMessages.serve).
  const mailbox = meta.pinnedBuild ? buildMailbox(taskQueue, meta.pinnedBuild) : taskQueue;
  const timeoutMs = link.timeoutMs;
  const doing = `${message.kind} '${message.name}' of workflow '${workflowId}'`;
  const began = Date.now();
  const request: MessageRequest = {
    id: randomUUID(),
    kind: message.kind,
    workflowId,
    runId: message.runId,
    name: message.name,
    input: converter.encodeAll(message.args, doing),
    ...(message.updateId !== undefined ? { updateId: message.updateId } : {}),
    replyTo: messages.replyChannel,
    deadline: began + timeoutMs,
  };
  const text = JSON.stringify(request);
  const waiting = await link.call(doing, () => messages.expect(request.id));
  try {
    let answer: string | undefined;
    void waiting.reply.then((r) => (answer = r));
    await link.call(doing, () => messages.send(mailbox, text));
    await Promise.race([
      waiting.reply,
      new Promise((r) => setTimeout(r, Math.max(0, timeoutMs - (Date.now() - began))).unref()),
    ]);
    if (answer === undefined) {
      const withdrawn = await link.call(doing, () => messages.withdraw(mailbox, request.id, text, CLAIM_TTL_MS));
      if (answer === undefined) {
        throw new NoWorkerAnsweredError(
          message.kind,
          workflowId,
          message.runId,
          meta.type,
          message.name,
          taskQueue,
          timeoutMs,
          !withdrawn,
          message.updateId,
        );
      }
    }
    const reply = JSON.parse(answer) as MessageReply;
    if (!reply.ok) throw fromWireError(reply.error, `worker ${reply.worker}`);
    return {
      runId: reply.runId,
      ...(reply.value !== undefined ? { value: converter.decode(reply.value, `result of ${doing}`) } : {}),
    };
  } finally {
    waiting.stop();
  }
}

/** The parts the answering side (a worker) uses. */
export type AnswerParts = Pick<
  ClientParts,
  'histories' | 'link' | 'converter' | 'writes' | 'watcher' | 'registry' | 'messages' | 'settings'
> & { cached: IdleCachedExecution };

/**
 * A worker's side: answers the queries and updates other processes ask for, from its cached
 * execution of the run when it holds an idle one that has seen the whole history, else by
 * replaying the history; updates go through the same validation and recording as in a process
 * with the class (validator, update id dedupe, `WorkflowUpdateAccepted` in the history).
 */
export class WorkerMessageAnswers {
  private readonly worker = `${hostname()}:${process.pid}`;

  constructor(private readonly parts: AnswerParts) {}

  /** Answers one message (as the transport hands it over); a malformed or expired one is dropped. */
  async answer(text: string): Promise<void> {
    let request: MessageRequest;
    try {
      request = JSON.parse(text) as MessageRequest;
    } catch {
      return; // not a message of this library
    }
    if (typeof request?.id !== 'string' || typeof request.replyTo !== 'string') return;
    if (Date.now() > request.deadline + DEADLINE_SLACK_MS) return;
    // Its sender may have withdrawn it (timed out), or a resent copy of it was taken already.
    if (!(await this.parts.messages.taken(request.id, CLAIM_TTL_MS))) return;
    let reply: MessageReply;
    try {
      const args = this.parts.converter.decodeAll(
        request.input,
        `arguments of ${request.kind} '${request.name}' of workflow '${request.workflowId}'`,
      );
      reply =
        request.kind === 'update'
          ? { ok: true, runId: await this.update(request, args), worker: this.worker }
          : { ok: true, value: await this.query(request, args), worker: this.worker };
    } catch (err) {
      reply = { ok: false, error: toWireError(err), worker: this.worker };
    }
    await this.parts.messages.answer(request.replyTo, request.id, JSON.stringify(reply));
  }

  private async query(request: MessageRequest, args: unknown[]): Promise<string> {
    const { histories, registry, converter, cached } = this.parts;
    const { workflowId, runId } = request;
    const meta = await histories.getMeta(workflowId);
    if (!meta) throw new WorkflowNotFoundError(workflowId);
    const definition = registry.workflows.get(meta.type);
    if (!definition) {
      throw new QueryUnavailableError(
        `Cannot query workflow '${workflowId}': worker ${this.worker} serves its task queue '${meta.taskQueue}' but does not register its type '${meta.type}'; register the @Workflow class in every worker of the task queue`,
      );
    }
    const name = handlerNamed(definition.queries, request.name) ?? request.name;
    // The cached execution answers when it has seen every event of the history: then it holds
    // what a replay would rebuild. Otherwise (evicted, never run here, or behind), a replay.
    const fromCache = await cached(workflowId, runId, async (activation) => {
      const newer = await histories.readEntriesAfter(workflowId, runId, activation.lastId);
      return newer.length > 0 ? undefined : { value: await withDeterminism(() => activation.query(name, args)) };
    });
    const hit = fromCache?.value;
    const value = hit
      ? hit.value
      : await withDeterminism(async () => {
          const entries = await histories.readEntries(workflowId, runId);
          if (entries.length === 0) throw new WorkflowNotFoundError(workflowId);
          return (await replayRun(this.parts, definition, entries)).query(name, args);
        });
    return converter.encode(value, `result of query '${request.name}' of workflow '${workflowId}'`);
  }

  private async update(request: MessageRequest, args: unknown[]): Promise<string> {
    const accepted = await acceptUpdate(
      this.parts,
      request.workflowId,
      request.name,
      args,
      request.updateId ?? randomUUID(),
      (type) => this.parts.registry.workflows.get(type),
    );
    if (typeof accepted !== 'string') {
      throw new UpdateUnavailableError(
        `Cannot update workflow '${request.workflowId}': worker ${this.worker} serves its task queue '${accepted.remote.taskQueue}' but does not register its type '${accepted.remote.type}'; register the @Workflow class in every worker of the task queue`,
      );
    }
    return accepted;
  }
}
