/**
 * A job in the worker: what a `Run` brought, and its state while it is held
 * or runs.
 *
 * @internal
 */
import type * as Fiber from "effect/Fiber"
import type * as Tracer from "effect/Tracer"
import type * as P from "../protocol.ts"

export interface Job {
  readonly id: number
  readonly ref: number
  readonly mode: P.Mode
  readonly inputs: ReadonlyArray<unknown>
  readonly group: number
  readonly caller: P.Caller | undefined
  /** interrupted, revoked, or dropped: it is not started, or stops */
  interrupted: boolean
  /** the fiber running now for this job: an input, or the task's layer */
  fiber: Fiber.Fiber<unknown, unknown> | undefined
  /** the job's span, when its caller had one */
  span: Tracer.Span | undefined
  /** a stream job's credit: how many more elements it may send (see `streamRun.ts`) */
  credit: number
  /** a stream job waiting for credit: called when some comes */
  onCredit: (() => void) | undefined
}

export const fromRun = (run: P.Run): Job => ({
  id: run[1],
  ref: run[2],
  mode: run[3],
  inputs: run[4],
  group: run[5],
  caller: run[6],
  interrupted: false,
  fiber: undefined,
  span: undefined,
  credit: 0,
  onCredit: undefined
})

/** A stream job may send `n` more elements; a send that waits for credit goes on. */
export const grant = (job: Job, n: number): void => {
  job.credit += n
  const waiting = job.onCredit
  job.onCredit = undefined
  waiting?.()
}
