/**
 * Logs and spans of a worker cross to the parent. A job's fibers log to the
 * parent (which logs each entry with the caller's loggers, annotated with the
 * worker and the task), at the caller's minimum level, and run in a span
 * whose parent is the caller's span: the trace crosses the process.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as References from "effect/References"
import * as Tracer from "effect/Tracer"
import type { AnyStream, Any as AnyTask } from "../../Task.ts"
import { toJson } from "../codec.ts"
import * as P from "../protocol.ts"
import { JobId } from "../workerContext.ts"
import type { Job } from "./job.ts"
import * as Outbox from "./outbox.ts"

export interface Telemetry {
  /** the worker's loggers: one, to the parent */
  readonly loggers: ReadonlySet<Logger.Logger<unknown, any>>
  readonly workerId: number
  /** what a job's span says of its worker besides its id (see `Transport.attributes`) */
  readonly attributes: Readonly<Record<string, number>>
  /** from the monotonic clock to the epoch in nanoseconds, as Effect's clock counts */
  readonly clockOffset: bigint
}

/**
 * Replaces the worker's loggers with one that sends each entry to the parent.
 * Built by hand rather than with `Logger.make`: the runtime only calls `log`,
 * and `effect/Logger` imports the file logger and what it needs (FileSystem,
 * Stream...), which would cost every worker about 7 MB and 15 ms at start.
 */
export const make = (
  outbox: Outbox.Outbox,
  workerId: number,
  attributes: Readonly<Record<string, number>>
): Telemetry => {
  const log = (options: Logger.Options<unknown>): void => {
    const message = Array.isArray(options.message) ? options.message.map(toJson) : [toJson(options.message)]
    if (options.cause.reasons.length > 0) message.push(Cause.pretty(options.cause))
    const annotations: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(options.fiber.getRef(References.CurrentLogAnnotations))) {
      annotations[key] = toJson(value)
    }
    Outbox.push(outbox, [P.LOG, options.fiber.getRef(JobId), options.logLevel, message, annotations])
    Outbox.flush(outbox)
  }
  return {
    loggers: new Set([{ log } as unknown as Logger.Logger<unknown, void>]),
    workerId,
    attributes,
    clockOffset: BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint()
  }
}

/** The context a job's fibers run with: the task layer's services, and the caller's log level and span. */
export const jobContext = (telemetry: Telemetry, job: Job, base: Context.Context<any>): Context.Context<any> => {
  let context = Context.add(Context.add(base, References.CurrentLoggers, telemetry.loggers), JobId, job.id)
  const caller = job.caller
  if (caller === undefined) return context
  context = Context.add(context, References.MinimumLogLevel, caller[1] as LogLevel.LogLevel)
  if (job.span !== undefined) context = Context.add(context, Tracer.ParentSpan, job.span)
  return context
}

/**
 * When the caller had a span, the job runs in a span of its own whose parent
 * is the caller's. One span per job (a chunk), with the task's name, the
 * worker's pid and the chunk size as attributes. A tracer (the task layer's)
 * that throws costs the span, not the job.
 */
export const startSpan = (
  telemetry: Telemetry,
  job: Job,
  task: AnyTask | AnyStream,
  context: Context.Context<any>
): void => {
  const parent = job.caller?.[0]
  if (parent === null || parent === undefined) return
  try {
    job.span = makeSpan(`ProcessPool.task ${task.name}`, context, parent, {
      "task.name": task.name,
      ...telemetry.attributes,
      "worker.id": telemetry.workerId,
      "chunk.size": job.inputs.length
    })
  } catch {
    // the job runs without its span
  }
}

/**
 * A span as `Effect.makeSpan` makes it in a fiber running with `context`, a
 * child of the caller's span, made without running a fiber: a tiny task in a
 * caller's span cost a worker ~1.8 µs more than one without, most of it the
 * fiber that `Effect.runSyncWith` started for the span (CPU profile of a
 * thread: 406 ms of its ~1,470 in `startSpan`, 148 of them making the span).
 * Made here: the workers' CPU for 20,000 tiny tasks in a caller's span fell
 * from 59–62 to 46–49 ms (no span: ~23), 236–259k → 270–302k tasks/s on 2
 * threads (3 alternated runs of 10 rounds). The same references are read, in
 * the same way (effect 4.1's `makeSpanUnsafe`), and
 * test/internal/telemetry.test.ts compares the two; with tracing off, the
 * span is Effect's own (a no-op span that stops propagation).
 */
export const makeSpan = (
  name: string,
  context: Context.Context<never>,
  caller: readonly [traceId: string, spanId: string, sampled: boolean],
  attributes: Readonly<Record<string, unknown>>
): Tracer.Span => {
  const parent = Tracer.externalSpan({ traceId: caller[0], spanId: caller[1], sampled: caller[2] })
  if (!Context.get(context, References.TracerEnabled)) {
    return Effect.runSyncWith(context)(Effect.makeSpan(name, { parent, attributes }))
  }
  const level = Context.get(context, Tracer.CurrentTraceLevel)
  const links = Context.get(context, References.TracerSpanLinks)
  const span = Context.get(context, Tracer.Tracer).span({
    name,
    parent: Option.some(parent),
    annotations: Context.empty(),
    links: links.length === 0 ? [] : links.slice(),
    startTime: Context.get(context, References.TracerTimingEnabled)
      ? Context.get(context, Clock.Clock).currentTimeNanosUnsafe()
      : 0n,
    kind: "internal",
    root: false,
    sampled:
      parent.sampled === false ? false : !LogLevel.isGreaterThan(Context.get(context, Tracer.MinimumTraceLevel), level)
  })
  const annotations = Context.get(context, References.TracerSpanAnnotations)
  for (const key in annotations) span.attribute(key, annotations[key])
  for (const key in attributes) span.attribute(key, attributes[key])
  return span
}

export const endSpan = (telemetry: Telemetry, job: Job, outcomes: ReadonlyArray<P.Outcome> | undefined): void => {
  const span = job.span
  if (span === undefined) return
  job.span = undefined
  const failed = outcomes?.find((outcome) => outcome[0] !== P.SUCCESS)
  try {
    span.end(process.hrtime.bigint() + telemetry.clockOffset, failed === undefined ? Exit.void : Exit.fail(failed))
  } catch {
    // the span is lost, the job's outcome is not
  }
}
