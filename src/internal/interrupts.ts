/**
 * Taking work back from workers: a caller's interruption of a job (queued,
 * held ahead, or running), the grace a running job gets before its worker is
 * killed, and work stealing (an idle worker takes a held job back from a busy
 * one with `REVOKE`).
 *
 * @internal
 */

import * as Admission from "./admission.ts"
import type { EngineState } from "./engineState.ts"
import { finish } from "./engineState.ts"
import * as Jobs from "./jobs.ts"
import * as Policy from "./policy.ts"
import * as Slots from "./slots.ts"

type Job = Jobs.Job<Slots.Slot>

/**
 * When a job's grace expires while another job of its worker is still
 * unanswered, the pool concludes that the worker has seen the interrupt before
 * the job could start (see `graceExpired`). That holds only once the interrupt
 * has had time to arrive and be read, so the conclusion waits at least this
 * long, whatever `interruptGrace` is. The same wait applies to a `REVOKE`.
 */
export const MIN_HELD_WAIT_MS = 100

/**
 * Stops a job. `onStopped` is called once the job has really stopped: at once
 * for a queued one, on the worker's confirmation for a sent one, or once its
 * worker is dead when it did not confirm within `interruptGrace`.
 */
export const interrupt = (state: EngineState, job: Job, onStopped: () => void): void => {
  if (job.state === Jobs.ENDED) return queueMicrotask(onStopped)
  if (!Jobs.beginStop(job, onStopped)) return
  // one that waits for room or is queued never started: it leaves its place
  if (job.state === Jobs.QUEUED || job.state === Admission.WAITING) return finish(state, job, [Jobs.CANCELLED])
  Slots.interrupt(job.worker!, job.id)
  // sent with the next dispatch, in this microtask: interrupts of many jobs
  // at once (a failed map) reach a worker in one batch, which it reads whole
  state.wake()
  // The grace counts from when the interrupt leaves, with that dispatch, not
  // from when it was decided: a caller that keeps the parent busy meanwhile
  // must not spend the task's grace (measured: a task that honours an
  // interrupt in 300 ms was killed after its caller blocked for 1.8 s).
  queueMicrotask(() => {
    if (job.state !== Jobs.SENT) return
    const clock = state.clock
    Jobs.interruptSent(
      job,
      clock.now(),
      clock.after(state.options.interruptGraceMs, () => graceExpired(state, job))
    )
  })
}

const graceExpired = (state: EngineState, job: Job): void => {
  Jobs.waitFor(job, undefined)
  if (job.state !== Jobs.SENT) return
  if (Jobs.isRunning(job)) {
    // it may be running and is not answering (a synchronous loop cannot):
    // kill the worker; the job ends when the worker is gone
    Slots.kill(job.worker!)
    return
  }
  // A job behind another unanswered one has certainly not started (the worker
  // answers a job before it starts the next), and the worker reads its pipe
  // before starting a job after one that ran this long: it will see the
  // interrupt first. Nothing to wait for.
  const clock = state.clock
  const waited = clock.now() - job.interruptedAt
  if (waited < MIN_HELD_WAIT_MS) {
    Jobs.waitFor(
      job,
      clock.after(MIN_HELD_WAIT_MS - waited, () => graceExpired(state, job))
    )
    return
  }
  // ...once what the worker sent before is read. Timers run before I/O in
  // Node's loop, so a busy parent can get here with the answer of the job
  // before this one waiting in its pipe: the worker may have started this job
  // before the interrupt reached it. One more turn (setImmediate runs after
  // the poll phase) reads that answer; a message still arriving is waited for.
  clock.nextTurn(() => heldStopped(state, job))
}

/** While a worker's message is still arriving, how often a held job's interruption looks again. */
const RECEIVING_RECHECK_MS = 10

const heldStopped = (state: EngineState, job: Job): void => {
  if (job.state !== Jobs.SENT) return
  const clock = state.clock
  if (job.worker!.handle.receiving()) {
    Jobs.waitFor(
      job,
      clock.after(RECEIVING_RECHECK_MS, () => heldStopped(state, job))
    )
    return
  }
  // it became the running one: it started before the interrupt arrived, and
  // gets a grace of its own to honour it
  if (Jobs.isRunning(job)) {
    Jobs.waitFor(
      job,
      clock.after(state.options.interruptGraceMs, () => graceExpired(state, job))
    )
    return
  }
  finish(state, job, [Jobs.CANCELLED])
}

/**
 * Work stealing: for each idle worker, take back the last job held (not
 * started) by the worker that holds the most, to be queued again.
 */
export const stealForIdle = (state: EngineState): void => {
  for (const idle of state.slots) {
    if (idle.state !== Slots.READY || idle.inflight.length > 0) continue
    const donor = Policy.stealFrom(idle, state.slots)
    if (donor === undefined) return
    const job = donor.inflight[donor.inflight.length - 1]!
    if (job.revoking || job.stopping !== undefined) continue
    Slots.revoke(donor, job.id)
    // A worker busy in a synchronous loop reads the REVOKE only when the loop
    // ends. By then it reads it before it would start this job (see
    // `graceExpired` for why), so once the REVOKE has had time to arrive, the
    // job can be queued again without waiting for the answer.
    // As for an interrupt (see `graceExpired`), what the worker sent before is
    // read first: it may have started the job before the REVOKE reached it.
    const clock = state.clock
    Jobs.revokeSent(
      job,
      clock.after(MIN_HELD_WAIT_MS, () => clock.nextTurn(() => revokeExpired(state, job, donor)))
    )
  }
}

const revokeExpired = (state: EngineState, job: Job, donor: Slots.Slot): void => {
  Jobs.revokeWait(job, undefined)
  const stale = job.state !== Jobs.SENT || job.worker !== donor || !job.revoking || job.stopping !== undefined
  if (stale || Jobs.isRunning(job)) return
  if (donor.handle.receiving()) {
    Jobs.revokeWait(
      job,
      state.clock.after(RECEIVING_RECHECK_MS, () => revokeExpired(state, job, donor))
    )
    return
  }
  Jobs.requeue(state.queue, [job], true)
  state.wake()
}

/** The worker gave a held job back (`REVOKED`): it never started there. */
export const revoked = (state: EngineState, slot: Slots.Slot, id: number): void => {
  const i = Jobs.indexOf(slot, id)
  // already queued again by the timer above
  if (i === -1) return
  const job = slot.inflight[i]!
  Jobs.requeue(state.queue, [job], true)
  // given back while it was being interrupted: it ends without running
  if (job.stopping !== undefined || state.closed) finish(state, job, [Jobs.CANCELLED])
}
