/**
 * The engine's side of `maxQueue`: whether a new job joins the queue at once
 * or the admission line (`admission.ts`, which owns the line), admitting the
 * jobs of the line as room frees, and failing them when the pool closes. The
 * coordinator (`engine.ts`) calls these on submission, in every dispatch
 * (after sending, since a job that starts in its worker leaves room), and at
 * shutdown; a job that ends asks for a dispatch while the line is not empty
 * (`EngineState.finish`).
 *
 * @internal
 */
import * as Admission from "./admission.ts"
import type { EngineState } from "./engineState.ts"
import * as State from "./engineState.ts"
import { finish } from "./engineState.ts"
import * as Errors from "./errors.ts"
import * as Jobs from "./jobs.ts"
import * as Metrics from "./metrics.ts"
import type * as Slots from "./slots.ts"
import * as Workers from "./workers.ts"

type Job = Jobs.Job<Slots.Slot>

/** A new job: it joins the queue if nobody waits before it and it fits, else the end of the line. */
export const submitted = (state: EngineState, job: Job, now: number): void => {
  const line = state.admission
  if (line.max === Number.POSITIVE_INFINITY || Admission.admitsNow(line, State.queuedInputs(state), job.count)) {
    admit(state, job, now)
  } else {
    Admission.join(line, job)
  }
}

/**
 * The job joins the queue, unless its module cannot start a worker now (it
 * then fails as a new job would); its caller hears of its admission in a microtask.
 */
const admit = (state: EngineState, job: Job, now: number): void => {
  Jobs.enqueue(state.queue, job)
  if (state.admission.max !== Number.POSITIVE_INFINITY) {
    state.hooks.metrics.timing(Metrics.admissionWait, job.task.name, now - job.submittedAt)
  }
  const refused = Workers.refusal(state, job.task.module, now)
  if (refused !== undefined) return finish(state, job, [Jobs.ERRORED, Errors.withTask(refused, job.task.name)])
  if (job.onAdmitted !== undefined) Admission.notify(state.admission, job.onAdmitted, state.delivery.onThrow)
  state.wake()
}

/** Admits the jobs of the line that fit now, oldest first; whether any was. */
export const admitWaiting = (state: EngineState): boolean => {
  const line = state.admission
  if (line.waiting === 0) return false
  const now = state.clock.now()
  let admitted = false
  for (let job = Admission.next(line, State.queuedInputs(state)); job !== undefined; ) {
    admit(state, job, now)
    admitted = true
    job = Admission.next(line, State.queuedInputs(state))
  }
  return admitted
}

/** The pool is closing: every job of the line fails with `PoolClosed` (it was never handed to the pool). */
export const closeLine = (state: EngineState): void => {
  for (const job of Admission.drain(state.admission)) {
    finish(state, job, [Jobs.ERRORED, Errors.poolClosed(job.task)])
  }
}
