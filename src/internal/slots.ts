/**
 * A worker's slot: the parent's handle on one worker (of any kind, see
 * `workerKind.ts`) and everything the parent keeps about it: its life
 * (starting, ready, retiring, gone), the jobs it holds (`Jobs.Holder`), what
 * is waiting to be written to it, its pace, its timers. The functions here are
 * the only ones that change a slot's life and timers.
 *
 * @internal
 */
import type { Clock, Timer } from "./clock.ts"
import type { WorkerIdentity } from "./errors.ts"
import * as Jobs from "./jobs.ts"
import * as P from "./protocol.ts"
import * as StreamJobs from "./streamJobs.ts"
import type { WorkerHandle } from "./workerKind.ts"

export const STARTING = "starting"
export const READY = "ready"
/** asked to exit (recycled, idle, or a module failed to import in it): sent nothing more */
export const RETIRING = "retiring"
export const GONE = "gone"

/** A slot is a `Policy.Load` too: the policies read it as it is. */
export interface Slot extends Jobs.Holder {
  readonly inflight: Array<Jobs.Job<Slot>>
  readonly id: number
  readonly handle: WorkerHandle
  /** how errors and logs name it: `worker 3 (pid 1234)` */
  readonly name: string
  /** what errors say of it */
  readonly identity: WorkerIdentity
  /** what its log entries are annotated with: its id, and its pid or thread id */
  readonly annotations: Readonly<Record<string, number>>
  state: typeof STARTING | typeof READY | typeof RETIRING | typeof GONE
  /** written to the worker with the next flush */
  readonly outbox: Array<P.ToWorker>
  /** task references the worker has been told about (`P.Define`) */
  readonly defined: Set<number>
  /** task references whose module and layer this worker has loaded (`P.LOADED`) */
  readonly loaded: Set<number>
  /** ready, not finishing, and its channel open: it takes work */
  readonly open: boolean
  /** its last job is a stream job: it takes nothing more until that ends (see `streamJobs.ts`) */
  readonly streaming: boolean
  /** moving average of its time per job; NaN before its first answer */
  serviceMs: number
  lastAnswerAt: number
  /** the pool killed it (an interrupt past its grace, shutdown, a retiring worker that did not exit): not a crash */
  killed: boolean
  /** why its channel can no longer be used, once it cannot: it is killed, and its end counts as a crash */
  lost: string | undefined
  /**
   * It has been sent its last job (`maxTasksPerWorker`): it takes no more,
   * retires once it has answered, and no longer counts as live, so that its
   * replacement starts while it runs that job.
   */
  finishing: boolean
  /** something it wrote to its channel was dropped, and that was logged */
  droppedLogged: boolean
  idleTimer: Timer | undefined
  startTimer: Timer | undefined
  startTimedOut: boolean
  /** kills a retiring worker that does not exit in time (see `retire`) */
  exitTimer: Timer | undefined
}

export const make = (id: number, handle: WorkerHandle, type: string): Slot => ({
  id,
  handle,
  name: `worker ${id} (${handle.label})`,
  identity: { type, id, pid: handle.pid, threadId: handle.threadId, name: `worker ${id} (${handle.label})` },
  annotations: {
    workerId: id,
    ...(handle.pid !== undefined ? { pid: handle.pid } : {}),
    ...(handle.threadId !== undefined ? { threadId: handle.threadId } : {})
  },
  state: STARTING,
  inflight: [],
  inflightInputs: 0,
  jobsSent: 0,
  outbox: [],
  defined: new Set(),
  loaded: new Set(),
  serviceMs: Number.NaN,
  lastAnswerAt: 0,
  killed: false,
  lost: undefined,
  finishing: false,
  droppedLogged: false,
  idleTimer: undefined,
  startTimer: undefined,
  startTimedOut: false,
  exitTimer: undefined,
  get open() {
    return this.state === READY && !this.finishing && this.handle.accepting()
  },
  get streaming() {
    // nothing is sent behind a stream job, so if a worker holds one, it is its last
    const last = this.inflight[this.inflight.length - 1]
    return last !== undefined && StreamJobs.isStream(last)
  }
})

/** Starting, or ready and not finishing: a worker that takes or will take work. */
export const isLive = (slot: Slot): boolean => slot.state === STARTING || (slot.state === READY && !slot.finishing)

/** Kills a worker that does not say it is ready within `ms` (counted as a start failure). */
export const armStartTimer = (slot: Slot, clock: Clock, ms: number): void => {
  slot.startTimer = clock.after(ms, () => {
    if (slot.state !== STARTING) return
    slot.startTimedOut = true
    slot.handle.kill()
  })
}

/** The worker said it is ready. False if it had said so before. */
export const ready = (slot: Slot): boolean => {
  slot.startTimer?.cancel()
  if (slot.state !== STARTING) return false
  slot.state = READY
  return true
}

/** Queues a message for the worker (written by `flush`), defining the job's task first if the worker does not know it. */
export const sendJob = (slot: Slot, job: Jobs.Job<Slot>): void => {
  if (!slot.defined.has(job.ref)) {
    slot.defined.add(job.ref)
    slot.outbox.push([P.DEFINE, job.ref, job.task.module, job.task.key, job.task.name])
  }
  const wire = job.caller?.wire
  slot.outbox.push(
    wire === undefined
      ? [P.RUN, job.id, job.ref, job.mode, Jobs.inputsOf(job), job.group]
      : [P.RUN, job.id, job.ref, job.mode, Jobs.inputsOf(job), job.group, wire]
  )
  const credit = StreamJobs.initialCredit(job)
  if (credit !== undefined) slot.outbox.push(credit)
}

/**
 * Writes what is waiting for the worker in one batch. If a message cannot be
 * serialized they are written one by one, and `onUnserializable` hears of
 * each `Run` at fault.
 */
export const flush = (slot: Slot, onUnserializable: (id: number, error: unknown) => void): void => {
  if (slot.outbox.length === 0) return
  const batch = slot.outbox.splice(0, slot.outbox.length)
  try {
    slot.handle.send(batch)
  } catch {
    for (const message of batch) {
      try {
        slot.handle.send([message])
      } catch (error) {
        if (message[0] === P.RUN) onUnserializable(message[1], error)
      }
    }
  }
}

/** Learns the worker's pace from an answer that came `now`, for a job sent at `sentAt`; answers the sample. */
export const answered = (slot: Slot, sentAt: number, now: number, serviceTime: (a: number, s: number) => number) => {
  const sample = now - Math.max(sentAt, slot.lastAnswerAt)
  slot.serviceMs = serviceTime(slot.serviceMs, sample)
  slot.lastAnswerAt = now
  return sample
}

/**
 * Asks the worker to finish what it holds, release its task layers and exit.
 * Once it holds nothing, it has `exitWithinMs` to be gone, after which it is
 * killed: a task may have replaced what a worker exits with (`process.exit`),
 * or its layer's finalizers may hang, and a retired worker must not live on.
 * `onKilled` hears of such a kill.
 */
export const retire = (slot: Slot, clock: Clock, exitWithinMs: number, onKilled: () => void): void => {
  if (slot.state === RETIRING || slot.state === GONE) return
  slot.state = RETIRING
  clearIdle(slot)
  slot.outbox.push([P.SHUTDOWN])
  const check = () => {
    slot.exitTimer = undefined
    if (slot.state === GONE) return
    // still finishing its last jobs: its time starts once it holds none
    if (slot.inflight.length > 0) return void (slot.exitTimer = clock.after(exitWithinMs, check, true))
    onKilled()
    kill(slot)
  }
  slot.exitTimer = clock.after(exitWithinMs, check, true)
}

/** Asks the worker to stop job `id` (see `interrupts.ts`), with the next flush. */
export const interrupt = (slot: Slot, id: number): void => {
  slot.outbox.push([P.INTERRUPT, id])
}

/** Lets the worker send more elements of a stream job (see `streamJobs.ts`), with the next flush. */
export const credit = (slot: Slot, record: P.Credit): void => {
  slot.outbox.push(record)
}

/** Asks the worker to give back job `id`, held and not started, for an idle worker (see `interrupts.ts`). */
export const revoke = (slot: Slot, id: number): void => {
  slot.outbox.push([P.REVOKE, id])
}

/** The worker has loaded the task of reference `ref` (module imported, layer built). */
export const loaded = (slot: Slot, ref: number): void => {
  slot.loaded.add(ref)
}

/** Something the worker wrote was dropped; true the first time (the one to log). */
export const dropped = (slot: Slot): boolean => {
  if (slot.droppedLogged) return false
  slot.droppedLogged = true
  return true
}

/** It has been sent its last job (`maxTasksPerWorker`): it takes no more, and retires once it has answered. */
export const sentLast = (slot: Slot): void => {
  slot.finishing = true
}

/** Kills the worker at once; it is gone when its kind says so. */
export const kill = (slot: Slot): void => {
  slot.killed = true
  slot.handle.kill()
}

/** Its channel can no longer be used (`reason`): it is killed, and its end is a crash, not the pool's doing. */
export const lose = (slot: Slot, reason: string): void => {
  if (slot.lost !== undefined || slot.state === GONE) return
  slot.lost = reason
  slot.handle.kill()
}

/** Calls `onIdle` after `ms` if the worker is still idle then. */
export const armIdle = (slot: Slot, clock: Clock, ms: number, onIdle: () => void): void => {
  slot.idleTimer = clock.after(
    ms,
    () => {
      slot.idleTimer = undefined
      if (slot.inflight.length === 0) onIdle()
    },
    true
  )
}

export const clearIdle = (slot: Slot): void => {
  slot.idleTimer?.cancel()
  slot.idleTimer = undefined
}

/** The worker is gone: its state and timers; answers how it was before (`STARTING`, `RETIRING`...). */
export const gone = (slot: Slot): Slot["state"] => {
  const before = slot.state
  slot.state = GONE
  clearIdle(slot)
  slot.startTimer?.cancel()
  slot.exitTimer?.cancel()
  return before
}
