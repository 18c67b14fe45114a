/**
 * How a job's end reaches its caller. The state changes at once (see
 * `EngineState.finish`); the caller hears of it in a microtask (`deliver`),
 * settled by `Outcomes`.
 * The engine never calls out while it is in the middle of changing its own
 * state, so a caller that reacts by submitting or interrupting other jobs (a
 * stream taking its next inputs) finds the engine consistent. A cluster's
 * engine (`cluster/clientEngine.ts`) delivers its jobs the same way.
 *
 * @internal
 */
import type * as Jobs from "./jobs.ts"
import * as Outcomes from "./outcomes.ts"

/** What delivery needs of a job. */
export interface Deliverable extends Outcomes.Settleable {
  /** callbacks of callers waiting for this job to stop; set once it is being interrupted */
  readonly stopping: ReadonlyArray<() => void> | undefined
  readonly onEnd: (result: any, target: any) => void
  readonly target: unknown
}

/** Jobs ended and not delivered yet, and how their ends are settled. */
export interface Delivery {
  /** jobs ended and their ends, in pairs */
  readonly pending: Array<unknown>
  delivering: boolean
  readonly tally: Outcomes.Tally
  /** settles any job this delivery is given: their requests' tasks are the settler's (see `Engine.make`) */
  readonly settle: Outcomes.Settler<any, unknown>
  /** a caller's callback threw */
  readonly onThrow: (error: unknown) => void
}

export const make = (
  tally: Outcomes.Tally,
  settle: Outcomes.Settler<any, unknown>,
  onThrow: (error: unknown) => void
): Delivery => ({ pending: [], delivering: false, tally, settle, onThrow })

/** Delivers a job that has ended, with the next delivery. */
export const push = (delivery: Delivery, job: Deliverable, end: Jobs.JobEnd): void => {
  delivery.pending.push(job, end)
  if (!delivery.delivering) {
    delivery.delivering = true
    queueMicrotask(() => deliver(delivery))
  }
}

/** In the place of a job's end once it is settled: its callers stopped it (they resume through their stop callbacks). */
const STOPPED: unique symbol = Symbol("stopped")
/** In the place of a job's end whose settling threw (codecs do not throw): reported, and no callback is called. */
const UNSETTLED: unique symbol = Symbol("unsettled")

const deliver = (delivery: Delivery): void => {
  const pending = delivery.pending
  const metrics = delivery.tally.metrics
  // a callback may end more jobs: they are delivered in this same loop, in passes
  try {
    for (let from = 0; from < pending.length; ) {
      const to = pending.length
      // Every job of a pass is settled (and counted) before the first of its
      // callers hears of it: the counters are updated once a pass, and a
      // caller that reads them finds its own job counted.
      metrics.hold()
      try {
        for (let i = from; i < to; i += 2) pending[i + 1] = settled(delivery, pending[i] as Deliverable, pending[i + 1])
      } finally {
        metrics.release()
      }
      for (let i = from; i < to; i += 2) {
        const job = pending[i] as Deliverable
        const result = pending[i + 1]
        if (result === STOPPED) {
          for (const stopped of job.stopping!) guarded(delivery, stopped)
        } else if (result !== UNSETTLED) {
          // as `guarded`, without a closure: this runs once a task
          try {
            job.onEnd(result, job.target)
          } catch (error) {
            delivery.onThrow(error)
          }
        }
      }
      from = to
    }
  } finally {
    pending.length = 0
    delivery.delivering = false
  }
}

/** What a job's caller is given for its end: its settled outcome, or `STOPPED` (a job ended stays as it was: see `Interrupts.interrupt`). */
const settled = (delivery: Delivery, job: Deliverable, end: unknown): unknown => {
  if (job.stopping !== undefined) {
    Outcomes.cancelled(delivery.tally, job)
    return STOPPED
  }
  try {
    return delivery.settle(delivery.tally, job, end as Jobs.JobEnd)
  } catch (error) {
    delivery.onThrow(error)
    return UNSETTLED
  }
}

/**
 * Runs a caller's callback. Resuming a fiber runs the caller's code at once
 * (its continuation, its observers), so a throw there must not stop the loop
 * that delivers everyone else's results: it is reported, and the pool goes on.
 */
const guarded = (delivery: Delivery, callback: () => void): void => {
  try {
    callback()
  } catch (error) {
    delivery.onThrow(error)
  }
}
