/**
 * Logs and spans of a worker cross to the parent. A job's fibers log to the
 * parent (which logs each entry with the caller's loggers, annotated with the
 * worker and the task), at the caller's minimum level, and run in a span
 * whose parent is the caller's span: the trace crosses the process.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Logger from "effect/Logger"
import type * as LogLevel from "effect/LogLevel"
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
    job.span = Effect.runSyncWith(context)(
      Effect.makeSpan(`ProcessPool.task ${task.name}`, {
        parent: Tracer.externalSpan({ traceId: parent[0], spanId: parent[1], sampled: parent[2] }),
        attributes: {
          "task.name": task.name,
          ...telemetry.attributes,
          "worker.id": telemetry.workerId,
          "chunk.size": job.inputs.length
        }
      })
    )
  } catch {
    // the job runs without its span
  }
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
