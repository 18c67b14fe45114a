/**
 * How a job's end reaches its caller. The state changes at once (`finish`);
 * the caller hears of it in a microtask (`deliver`), settled by `Outcomes`.
 * The engine never calls out while it is in the middle of changing its own
 * state, so a caller that reacts by submitting or interrupting other jobs (a
 * stream taking its next inputs) finds the engine consistent.
 *
 * @internal
 */
import * as State from "./engineState.ts"
import * as Jobs from "./jobs.ts"
import * as Outcomes from "./outcomes.ts"

/** Ends a job with `end`; nothing happens if it had ended already. */
export const finish = (state: State.EngineState, job: Jobs.Job, end: Jobs.JobEnd): void => {
  if (!Jobs.end(state.queue, job)) return
  State.refreshGauges(state)
  state.deliveries.push(job, end)
  if (!state.delivering) {
    state.delivering = true
    queueMicrotask(() => deliver(state))
  }
}

const deliver = (state: State.EngineState): void => {
  const deliveries = state.deliveries
  // a callback may end more jobs: they are delivered in this same loop
  try {
    for (let i = 0; i < deliveries.length; i += 2) {
      const job = deliveries[i] as Jobs.Job
      const end = deliveries[i + 1] as Jobs.JobEnd
      const stopping = job.stopping
      if (stopping !== undefined) {
        // its callers interrupted it: they resume through their stop callbacks
        Outcomes.cancelled(state.tally, job)
        for (const stopped of stopping) guarded(state, stopped)
      } else {
        guarded(state, () => job.onEnd(Outcomes.settle(state.tally, job, end)))
      }
    }
  } finally {
    deliveries.length = 0
    state.delivering = false
  }
}

/**
 * Runs a caller's callback. Resuming a fiber runs the caller's code at once
 * (its continuation, its observers), so a throw there must not stop the loop
 * that delivers everyone else's results: it is logged, and the pool goes on.
 */
export const guarded = (state: State.EngineState, callback: () => void): void => {
  try {
    callback()
  } catch (error) {
    State.log(state, "Error", ["effect-process-pool: code resumed by the pool threw; the pool goes on", error])
  }
}
