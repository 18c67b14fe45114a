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
  readonly pending: Array<Deliverable | Jobs.JobEnd>
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

const deliver = (delivery: Delivery): void => {
  const pending = delivery.pending
  // a callback may end more jobs: they are delivered in this same loop
  try {
    for (let i = 0; i < pending.length; i += 2) {
      const job = pending[i] as Deliverable
      const end = pending[i + 1] as Jobs.JobEnd
      const stopping = job.stopping
      if (stopping !== undefined) {
        // its callers interrupted it: they resume through their stop callbacks
        Outcomes.cancelled(delivery.tally, job)
        for (const stopped of stopping) guarded(delivery, stopped)
      } else {
        // as `guarded`, without a closure: this runs once a task
        try {
          job.onEnd(delivery.settle(delivery.tally, job, end), job.target)
        } catch (error) {
          delivery.onThrow(error)
        }
      }
    }
  } finally {
    pending.length = 0
    delivery.delivering = false
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
