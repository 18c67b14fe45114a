/**
 * The calling fiber, as a job carries it: its span and minimum log level go
 * to the worker (so a task's span is a child of the caller's, and its log
 * entries are filtered at the caller's level), and its context stays in the
 * parent to log the worker's entries with the caller's loggers.
 *
 * @internal
 */
import * as Context from "effect/Context"
import type * as Fiber from "effect/Fiber"
import * as References from "effect/References"
import * as Tracer from "effect/Tracer"
import type { Caller } from "./jobs.ts"

/** The default minimum log level: a caller at it sends nothing about logs. */
const DEFAULT_MINIMUM_LOG_LEVEL = "Info"

export const callerOf = (fiber: Fiber.Fiber<unknown, unknown>): Caller => {
  const span = Context.getOrUndefined(fiber.context, Tracer.ParentSpan)
  const level = fiber.getRef(References.MinimumLogLevel)
  if (span !== undefined) return { wire: [[span.traceId, span.spanId, span.sampled], level], context: fiber.context }
  if (level !== DEFAULT_MINIMUM_LOG_LEVEL) return { wire: [null, level], context: fiber.context }
  // nothing to send: the fiber itself has the context, and one task costs no allocation here
  return fiber
}
