/**
 * Jobs in the parent: the record of one job (a task on a chunk of inputs),
 * the queue of jobs not yet sent, and the transitions that alone change a
 * job's state, its place and the counts that follow them.
 *
 * A job is in exactly one place:
 * - `QUEUED`: in the queue (the queue's `inputs` counts it);
 * - `SENT`: in its worker's `inflight`, in send order (the holder's
 *   `inflightInputs` counts it); the first there is the one that may be
 *   running, the others are held (see `protocol.ts`);
 * - `ENDED`: nowhere; its caller hears of it once (`delivery.ts`).
 *
 * @internal
 */
import type { ProcessPoolErrorReason } from "../ProcessPoolError.ts"
import type * as Task from "../Task.ts"
import type * as P from "./protocol.ts"

export const QUEUED = 0
export const SENT = 1
export const ENDED = 2

/** How a job ended: answered by its worker, failed by the pool, or cancelled (interrupted before it ran, or by its caller). */
export type JobEnd =
  | readonly [kind: typeof ANSWERED, answer: P.Done | P.Outcomes | P.JobFailed, pid: number, serviceMs: number]
  | readonly [kind: typeof ERRORED, reason: ProcessPoolErrorReason]
  | readonly [kind: typeof CANCELLED]

export const ANSWERED = 0
export const ERRORED = 1
export const CANCELLED = 2

/**
 * The fiber a job is for: what is sent to the worker of it (`wire`; absent for
 * a caller with nothing to send), and its context, for its log entries.
 */
export interface Caller {
  readonly wire?: P.Caller | undefined
  readonly context: unknown
}

/** What holds sent jobs: a worker's slot, as far as the transitions here change it. */
export interface Holder {
  readonly inflight: Array<Job>
  /** the inputs of the jobs in `inflight` */
  inflightInputs: number
  /** jobs ever sent to it, less those it gave back */
  jobsSent: number
}

/** what a job holds once it no longer needs its inputs */
const NO_INPUTS: ReadonlyArray<unknown> = []

/** What stays in the parent for one job: the caller's side of a `Run`. */
export interface Job {
  readonly id: number
  readonly task: Task.Any
  readonly ref: number
  readonly mode: P.Mode
  /**
   * The encoded inputs, for as long as the job may still have to be sent:
   * released once it ends or its worker is running it.
   */
  inputs: ReadonlyArray<unknown>
  /** how many inputs the job has */
  readonly count: number
  /** the position of its first input in its caller's inputs (`map` and the streams; none for `run`) */
  readonly first: number | undefined
  /** see `P.Run`; 0 for none */
  readonly group: number
  /** called once with its outcome (see `Outcomes.Settler`), unless the job's caller interrupted it (see `stopping`) */
  readonly onEnd: (result: any) => void
  readonly caller: Caller | undefined
  readonly submittedAt: number
  state: typeof QUEUED | typeof SENT | typeof ENDED
  worker: Holder | undefined
  sentAt: number
  /** callbacks of callers waiting for this job to stop; set once it is being interrupted */
  stopping: Array<() => void> | undefined
  interruptedAt: number
  graceTimer: NodeJS.Timeout | undefined
  /** a REVOKE was sent for it: an idle worker wants it */
  revoking: boolean
  /** queues it again if the REVOKE goes unanswered; cleared once that no longer applies */
  revokeTimer: NodeJS.Timeout | undefined
}

export const make = (
  id: number,
  task: Task.Any,
  ref: number,
  mode: P.Mode,
  inputs: ReadonlyArray<unknown>,
  group: number,
  onEnd: (result: any) => void,
  caller: Caller | undefined,
  first: number | undefined,
  now: number
): Job => ({
  id,
  task,
  ref,
  mode,
  inputs,
  count: inputs.length,
  first,
  group,
  onEnd,
  caller,
  submittedAt: now,
  state: QUEUED,
  worker: undefined,
  sentAt: 0,
  stopping: undefined,
  interruptedAt: 0,
  graceTimer: undefined,
  revoking: false,
  revokeTimer: undefined
})

// ---------------------------------------------------------------------------
// the queue
// ---------------------------------------------------------------------------

/** Jobs not sent yet, oldest first; ended ones are skipped (and dropped) as the head passes them. */
export interface Queue {
  readonly jobs: Array<Job | undefined>
  head: number
  /** the inputs of the queued jobs */
  inputs: number
}

export const makeQueue = (): Queue => ({ jobs: [], head: 0, inputs: 0 })

/** Compacts the queue's array once its consumed head is this long and more than half of it. */
const COMPACT_AFTER = 1024

export const enqueue = (queue: Queue, job: Job): void => {
  queue.jobs.push(job)
  queue.inputs += job.count
}

export const hasQueued = (queue: Queue): boolean => {
  while (queue.head < queue.jobs.length) {
    if (queue.jobs[queue.head]?.state === QUEUED) return true
    // an ended job is dropped as the head passes it: it holds its caller's callback
    queue.jobs[queue.head++] = undefined
  }
  return false
}

/** The oldest queued job, taken off the queue (still `QUEUED` until `send`). */
const takeNext = (queue: Queue): Job | undefined => {
  const jobs = queue.jobs
  while (queue.head < jobs.length) {
    const job = jobs[queue.head]
    jobs[queue.head++] = undefined
    if (job?.state === QUEUED) {
      if (queue.head > COMPACT_AFTER && queue.head * 2 > jobs.length) {
        jobs.splice(0, queue.head)
        queue.head = 0
      }
      return job
    }
  }
  jobs.length = queue.head = 0
  return undefined
}

/** Calls `f` on every queued job, oldest first; `f` may end it. */
export const forEachQueued = (queue: Queue, f: (job: Job) => void): void => {
  for (let i = queue.head; i < queue.jobs.length; i++) {
    const job = queue.jobs[i]
    if (job?.state === QUEUED) f(job)
  }
}

/** How many jobs are queued, counted up to `limit` (enough to decide how many workers to start). */
export const countQueued = (queue: Queue, limit: number): number => {
  let n = 0
  for (let i = queue.head; i < queue.jobs.length && n < limit; i++) if (queue.jobs[i]?.state === QUEUED) n++
  return n
}

// ---------------------------------------------------------------------------
// transitions
// ---------------------------------------------------------------------------

/**
 * Sends the oldest queued job to `holder`: `QUEUED` → `SENT`. `write` makes
 * its message while the job still has its inputs. Answers the job, or
 * `undefined` if none is queued.
 */
export const sendNext = (queue: Queue, holder: Holder, now: number, write: (job: Job) => void): Job | undefined => {
  const job = takeNext(queue)
  if (job === undefined) return undefined
  write(job)
  queue.inputs -= job.count
  job.state = SENT
  job.worker = holder
  job.sentAt = now
  holder.inflight.push(job)
  holder.inflightInputs += job.count
  holder.jobsSent++
  if (holder.inflight.length === 1) releaseInputs(job)
  return job
}

/**
 * A worker runs its jobs in order: the first one it holds is running, or
 * about to, and is never sent again (a crash fails it, no REVOKE asks for it
 * back), unless a REVOKE was sent while it waited behind another. Its inputs
 * are dropped: a stream keeps chunks in flight long enough for V8 to promote
 * them, and every array that is not kept is one less to promote.
 */
const releaseInputs = (job: Job): void => {
  if (!job.revoking) job.inputs = NO_INPUTS
}

/** Takes the job at `i` out of its holder; the one that becomes first is running now. */
const detach = (holder: Holder, i: number): Job => {
  const inflight = holder.inflight
  const job = inflight[i]!
  if (i === 0) inflight.shift()
  else inflight.splice(i, 1)
  holder.inflightInputs -= job.count
  job.worker = undefined
  if (i === 0 && inflight.length > 0) releaseInputs(inflight[0]!)
  return job
}

/** The index in `holder.inflight` of job `id`, or -1. */
export const indexOf = (holder: Holder, id: number): number => {
  const inflight = holder.inflight
  for (let i = 0; i < inflight.length; i++) if (inflight[i]!.id === id) return i
  return -1
}

/** Whether the job may be running: the first its worker holds. */
export const isRunning = (job: Job): boolean => job.state === SENT && job.worker?.inflight[0] === job

/**
 * Ends a job, wherever it is: → `ENDED`. False if it had ended already. Its
 * timers are cleared: a pending one would keep the job, and what its caller's
 * callback holds, alive.
 */
export const end = (queue: Queue, job: Job): boolean => {
  if (job.state === ENDED) return false
  if (job.state === QUEUED) queue.inputs -= job.count
  else if (job.worker !== undefined) detach(job.worker, job.worker.inflight.indexOf(job))
  job.state = ENDED
  job.inputs = NO_INPUTS
  if (job.graceTimer !== undefined) clearTimeout(job.graceTimer)
  job.graceTimer = undefined
  clearRevoke(job)
  return true
}

/** Ends the job at `i` of `holder` (its answer came): → `ENDED`, and answers it. */
export const endAt = (queue: Queue, holder: Holder, i: number): Job => {
  const job = holder.inflight[i]!
  end(queue, job)
  return job
}

/**
 * Takes every job out of a worker that is gone, in order, without letting
 * the next one count as running (none will run there). Each is then ended
 * or queued again: until then it is `SENT` with no worker.
 */
export const abandon = (holder: Holder): Array<Job> => {
  const jobs = holder.inflight.splice(0, holder.inflight.length)
  holder.inflightInputs = 0
  for (const job of jobs) job.worker = undefined
  return jobs
}

/**
 * Puts sent jobs that never started back at the front of the queue, in their
 * order: `SENT` → `QUEUED` (their worker died holding them, or gave them back).
 * A job given back (`revoked`) no longer counts as sent to that worker.
 */
export const requeue = (queue: Queue, jobs: ReadonlyArray<Job>, revoked: boolean): void => {
  for (let i = jobs.length - 1; i >= 0; i--) {
    const job = jobs[i]!
    const holder = job.worker
    if (holder !== undefined) {
      detach(holder, holder.inflight.indexOf(job))
      if (revoked) holder.jobsSent--
    }
    job.state = QUEUED
    job.revoking = false
    clearRevoke(job)
    queue.inputs += job.count
    if (queue.head > 0) queue.jobs[--queue.head] = job
    else queue.jobs.unshift(job)
  }
}

const clearRevoke = (job: Job): void => {
  if (job.revokeTimer === undefined) return
  clearTimeout(job.revokeTimer)
  job.revokeTimer = undefined
}
