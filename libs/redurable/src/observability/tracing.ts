/**
 * OpenTelemetry spans through `@opentelemetry/api`, an optional peer: when the app has it (and
 * an SDK registered), the client's calls, workflow tasks and activity attempts are spans;
 * without it, or without an SDK, everything here does nothing.
 *
 * A workflow's trace context is recorded in its WorkflowExecutionStarted event and copied into
 * each activity job, so a workflow task or an activity running in another process, hours
 * later, is a child of the span that started the workflow.
 */
type Api = typeof import('@opentelemetry/api');
type Span = import('@opentelemetry/api').Span;

let api: Api | undefined;
let loading: Promise<void> | undefined;

import type { TraceCarrier } from '../core/events.js';

export type { TraceCarrier };

/** Loads `@opentelemetry/api` if the app has it (once per process). */
export function loadTracing(): Promise<void> {
  loading ??= import('@opentelemetry/api').then(
    (m) => void (api = m as Api),
    () => undefined,
  );
  return loading;
}

/** The active context as a carrier, to record (undefined without OpenTelemetry or without a recording span). */
export function activeCarrier(): TraceCarrier | undefined {
  if (!api) return undefined;
  const carrier: TraceCarrier = {};
  api.propagation.inject(api.context.active(), carrier);
  if (carrier.traceparent) return carrier;
  // No propagator registered: W3C format from the active span itself.
  const sc = api.trace.getActiveSpan()?.spanContext();
  if (!sc || !api.isSpanContextValid(sc)) return undefined;
  return { traceparent: `00-${sc.traceId}-${sc.spanId}-0${(sc.traceFlags & 1).toString(16)}` };
}

function parentContext(carrier: TraceCarrier | undefined): import('@opentelemetry/api').Context {
  const a = api!;
  if (!carrier?.traceparent) return a.context.active();
  const extracted = a.propagation.extract(a.ROOT_CONTEXT, carrier);
  if (a.trace.getSpanContext(extracted)) return extracted;
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(carrier.traceparent);
  return m
    ? a.trace.setSpanContext(a.ROOT_CONTEXT, {
        traceId: m[1],
        spanId: m[2],
        traceFlags: parseInt(m[3], 16),
        isRemote: true,
      })
    : a.context.active();
}

/**
 * No SDK registered (the global provider delegates to the no-op one): a span would record
 * nothing, so the hot paths skip making one (with a recorded parent carrier they still do, so
 * that the context reaches what `fn` starts).
 */
function tracingOff(a: Api): boolean {
  const provider = a.trace.getTracerProvider() as { getDelegate?: () => object };
  return (provider.getDelegate?.() ?? provider).constructor.name === 'NoopTracerProvider';
}

/**
 * Runs `fn` in a span named `name`, child of `parent` (a recorded carrier) or of the active
 * context; an error is recorded on the span and rethrown.
 */
export async function inSpan<T>(
  name: string,
  attributes: Record<string, string | number | boolean | undefined>,
  parent: TraceCarrier | undefined,
  fn: () => Promise<T>,
  kind: 'client' | 'consumer' | 'internal' = 'internal',
): Promise<T> {
  if (!api || (parent === undefined && tracingOff(api))) return fn();
  const a = api;
  const tracer = a.trace.getTracer('redurable');
  const clean = Object.fromEntries(Object.entries(attributes).filter(([, v]) => v !== undefined)) as Record<
    string,
    string | number | boolean
  >;
  const spanKind =
    kind === 'client' ? a.SpanKind.CLIENT : kind === 'consumer' ? a.SpanKind.CONSUMER : a.SpanKind.INTERNAL;
  return tracer.startActiveSpan(
    name,
    { attributes: clean, kind: spanKind },
    parentContext(parent),
    async (span: Span) => {
      try {
        return await fn();
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: a.SpanStatusCode.ERROR, message: (err as Error)?.message });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/** The active trace context as the `trace` field of a started event (nothing without OpenTelemetry). */
export function traceOf(): { trace?: TraceCarrier } {
  const trace = activeCarrier();
  return trace ? { trace } : {};
}
