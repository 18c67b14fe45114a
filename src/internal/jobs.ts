/**
 * Jobs in the parent: the record of one job (a task on a chunk of inputs),
 * the queue of jobs not yet sent, and the transitions that alone change a
 * job's state, its place and the counts that follow them.
 *
 * A job is in exactly one place:
 * - `WAITING`: in the admission line, for room under `maxQueue` (see `admission.ts`);
 * - `QUEUED`: in the queue (the queue's `inputs` counts it);
 * - `SENT`: in its worker's `inflight`, in send order (the holder's
 *   `inflightInputs` counts it); the first there is the one that may be
 *   running, the others are held (see `protocol.ts`);
 * - `ENDED`: nowhere; its caller hears of it once (`delivery.ts`).
 *
 * @internal
 */
import type { ProcessPoolErrorReason } from "../ProcessPoolError.ts"
import { compacted, type WAITING } from "./admission.ts"
import type { Timer } from "./clock.ts"
import type * as P from "./protocol.ts"
import type { Sink } from "./streamJobs.ts"

export const QUEUED = "queued"
export const SENT = "sent"
export const ENDED = "ended"

/** How a job ended: answered by its worker, failed by the pool, or cancelled (interrupted before it ran, or by its caller). */
export type JobEnd =
  /** `worker`: the name of the worker that answered (`worker 3 (pid 4242)`), for the errors its answer holds */
  | readonly [kind: typeof ANSWERED, answer: P.Done | P.Outcomes | P.JobFailed, worker: string, serviceMs: number]
  | readonly [kind: typeof ERRORED, reason: ProcessPoolErrorReason]
  | readonly [kind: typeof CANCELLED]

export const ANSWERED = "answered"
export const ERRORED = "errored"
export const CANCELLED = "cancelled"

/** The fiber a job is for: what is sent to the worker of it (`wire`; absent for a caller with nothing to send), and its context, for its log entries. */
export interface Caller {
  readonly wire?: P.Caller | undefined
  readonly context: unknown
}

/**
 * What the engine knows of a task: where a worker finds it (`module`, and `key` among the module's tasks named
 * `name`) and its name, for errors and metrics. A `Task` is one; a cluster's runner, which has no Schemas of the task
 * (its client encodes and decodes), makes one from what the client sent.
 */
export interface TaskRef {
  readonly name: string
  readonly module: string
  readonly key: string
}

/**
 * One job as a caller hands it to an engine (`Engine.submit`): one task on
 * encoded inputs, and how its caller hears of its end.
 */
export interface Request<T extends TaskRef = TaskRef, R = unknown> {
  readonly task: T
  /** the inputs, encoded in the engine's wire form (`codec.ts`) */
  readonly inputs: ReadonlyArray<unknown>
  readonly mode: P.Mode
  /** called once, in a microtask, with its outcome (see `Outcomes.Settler`) and `target`, unless its caller interrupted it */
  readonly onEnd: (result: R, target: any) => void
  /**
   * handed back to `onEnd`: one function serves many jobs, and no job holds a closure of its own.
   * A job lives until it ends, 20,000 at once in a round of tiny tasks, and what it holds is what
   * the young generation copies (a closure and its two contexts: 136 bytes more than this field).
   */
  readonly target?: unknown
  readonly caller?: Caller | undefined
  /** see `P.Run`; 0 or absent for none */
  readonly group?: number | undefined
  /** the position of its first input in its caller's inputs (`map` and the streams), for messages */
  readonly first?: number | undefined
  /**
   * Called once, in a microtask, when the job joins the queue: at once when there is room under `maxQueue`, else when
   * room frees (`admission.ts`). Never for a job that ends before (interrupted while it waits, refused, or the pool
   * closed): its end is delivered instead.
   */
  readonly onAdmitted?: (() => void) | undefined
  /** a stream job's consumer (`mode` is `P.MODE_STREAM`; see `streamJobs.ts`) */
  readonly stream?: Sink | undefined
}

/** What holds sent jobs: a worker's slot, as far as the transitions here change it. */
export interface Holder {
  readonly inflight: Array<Job<any>>
  /** the inputs of the jobs in `inflight` */
  inflightInputs: number
  /** jobs ever sent to it, less those it gave back */
  jobsSent: number
}

/** what a job holds once it no longer needs its inputs */
const NO_INPUTS: ReadonlyArray<unknown> = []

/** A job's inputs, in an array (made for a job of one input); none once they are no longer needed. */
export const inputsOf = (job: Job<any, any>): ReadonlyArray<unknown> =>
  job.inputs === NO_INPUTS ? NO_INPUTS : job.count === 1 ? [job.inputs] : (job.inputs as ReadonlyArray<unknown>)

/**
 * What stays in the parent for one job: the caller's side of a `Run`. `W` is
 * what holds it once sent, `T` what its request said of its task.
 */
export interface Job<W extends Holder = Holder, T extends TaskRef = TaskRef> {
  readonly id: number
  readonly task: T
  readonly ref: number
  readonly mode: P.Mode
  /**
   * The encoded inputs (read them with `inputsOf`), for as long as the job may still have to be sent: released once
   * it ends or its worker is running it. A job of one input holds that input itself, not an array of it: an array a
   * job fewer for the young generation to copy (56 of the ~400 bytes a queued tiny task holds).
   */
  inputs: unknown
  /** how many inputs the job has */
  readonly count: number
  /** the position of its first input in its caller's inputs (`map` and the streams; none for `run`) */
  readonly first: number | undefined
  /** see `P.Run`; 0 for none */
  readonly group: number
  /** a stream job's consumer (see `streamJobs.ts`) */
  readonly stream: Sink | undefined
  /** called once with its outcome (see `Outcomes.Settler`) and `target`, unless the job's caller interrupted it (see `stopping`) */
  readonly onEnd: (result: any, target: any) => void
  readonly target: unknown
  readonly caller: Caller | undefined
  /** see `Request.onAdmitted` */
  readonly onAdmitted: (() => void) | undefined
  readonly submittedAt: number
  state: typeof WAITING | typeof QUEUED | typeof SENT | typeof ENDED
  worker: W | undefined
  sentAt: number
  /** callbacks of callers waiting for this job to stop; set once it is being interrupted */
  stopping: Array<() => void> | undefined
  /** when its INTERRUPT left for its worker */
  interruptedAt: number
  /** what follows an interrupt that is not confirmed (see `interrupts.ts`) */
  graceTimer: Timer | undefined
  /** a REVOKE was sent for it: an idle worker wants it */
  revoking: boolean
  /** queues it again if the REVOKE goes unanswered; cleared once that no longer applies */
  revokeTimer: Timer | undefined
}

/** A new job for `request`, queued at `now`; `ref` is its task's number (see `P.Define`). */
export const make = <T extends TaskRef>(
  id: number,
  ref: number,
  request: Request<T, any>,
  now: number
): Job<any, T> => ({
  id,
  task: request.task,
  ref,
  mode: request.mode,
  inputs: request.inputs.length === 1 ? request.inputs[0] : request.inputs,
  count: request.inputs.length,
  first: request.first,
  group: request.group ?? 0,
  stream: request.stream,
  onEnd: request.onEnd,
  target: request.target,
  caller: request.caller,
  onAdmitted: request.onAdmitted,
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

// --- the queue ---

/** Jobs not sent yet, oldest first; ended ones are skipped (and dropped) as the head passes them. */
export interface Queue<W extends Holder = Holder> {
  readonly jobs: Array<Job<W> | undefined>
  head: number
  /** the inputs of the queued jobs */
  inputs: number
}

export const makeQueue = <W extends Holder = Holder>(): Queue<W> => ({ jobs: [], head: 0, inputs: 0 })

/** Puts a new job (or one admitted from the line) at the end of the queue: → `QUEUED`. */
export const enqueue = <W extends Holder>(queue: Queue<W>, job: Job<W>): void => {
  job.state = QUEUED
  queue.jobs.push(job)
  queue.inputs += job.count
}

export const hasQueued = <W extends Holder>(queue: Queue<W>): boolean => {
  while (queue.head < queue.jobs.length) {
    if (queue.jobs[queue.head]?.state === QUEUED) return true
    // an ended job is dropped as the head passes it: it holds its caller's callback
    queue.jobs[queue.head++] = undefined
  }
  return false
}

/** The oldest queued job, taken off the queue (still `QUEUED` until `send`). */
const takeNext = <W extends Holder>(queue: Queue<W>): Job<W> | undefined => {
  const jobs = queue.jobs
  while (queue.head < jobs.length) {
    const job = jobs[queue.head]
    jobs[queue.head++] = undefined
    if (job?.state === QUEUED) {
      queue.head = compacted(jobs, queue.head)
      return job
    }
  }
  jobs.length = queue.head = 0
  return undefined
}

/** Calls `f` on every queued job, oldest first; `f` may end it. */
export const forEachQueued = <W extends Holder>(queue: Queue<W>, f: (job: Job<W>) => void): void => {
  for (let i = queue.head; i < queue.jobs.length; i++) {
    const job = queue.jobs[i]
    if (job?.state === QUEUED) f(job)
  }
}

/** How many jobs are queued, counted up to `limit` (enough to decide how many workers to start). */
export const countQueued = <W extends Holder>(queue: Queue<W>, limit: number): number => {
  let n = 0
  for (let i = queue.head; i < queue.jobs.length && n < limit; i++) if (queue.jobs[i]?.state === QUEUED) n++
  return n
}

// --- transitions ---

/**
 * Sends the oldest queued job to `holder`: `QUEUED` → `SENT`. `write` makes its message while the job still has its
 * inputs (a function of the holder, not a closure over it: this runs once a task). Answers the job, or `undefined` if
 * none is queued.
 */
export const sendNext = <W extends Holder>(
  queue: Queue<W>,
  holder: W,
  now: number,
  write: (holder: W, job: Job<W>) => void
): Job<W> | undefined => {
  const job = takeNext(queue)
  if (job === undefined) return undefined
  write(holder, job)
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
 * A worker runs its jobs in order: the first one it holds is running, or about to, and is never sent again (a crash
 * fails it, no REVOKE asks for it back), unless a REVOKE was sent while it waited behind another. Its inputs are
 * dropped: a stream keeps chunks in flight long enough for V8 to promote them, and every array that is not kept is
 * one less to promote.
 */
const releaseInputs = (job: Job<any>): void => {
  if (!job.revoking) job.inputs = NO_INPUTS
}

/** Takes the job at `i` out of its holder; the one that becomes first is running now. */
const detach = (holder: Holder, i: number): Job<any> => {
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
export const isRunning = (job: Job<any>): boolean => job.state === SENT && job.worker?.inflight[0] === job

/**
 * Ends a job, wherever it is: → `ENDED`. False if it had ended already. Its
 * timers are cleared: a pending one would keep the job, and what its caller's
 * callback holds, alive.
 */
export const end = <W extends Holder>(queue: Queue<W>, job: Job<W>): boolean => {
  if (job.state === ENDED) return false
  if (job.state === QUEUED) queue.inputs -= job.count
  else if (job.worker !== undefined) detach(job.worker, job.worker.inflight.indexOf(job))
  job.state = ENDED
  job.inputs = NO_INPUTS
  clearGrace(job)
  clearRevoke(job)
  return true
}

/** Ends the job at `i` of `holder` (its answer came): → `ENDED`, and answers it. */
export const endAt = <W extends Holder>(queue: Queue<W>, holder: W, i: number): Job<W> => {
  const job = holder.inflight[i]! as Job<W>
  end(queue, job)
  return job
}

/**
 * Takes every job out of a worker that is gone, in order, without letting
 * the next one count as running (none will run there). Each is then ended
 * or queued again: until then it is `SENT` with no worker.
 */
export const abandon = <W extends Holder>(holder: W): Array<Job<W>> => {
  const jobs = holder.inflight.splice(0, holder.inflight.length) as Array<Job<W>>
  holder.inflightInputs = 0
  for (const job of jobs) job.worker = undefined
  return jobs
}

/**
 * Puts sent jobs that never started back at the front of the queue, in their
 * order: `SENT` → `QUEUED` (their worker died holding them, or gave them back).
 * A job given back (`revoked`) no longer counts as sent to that worker.
 */
export const requeue = <W extends Holder>(queue: Queue<W>, jobs: ReadonlyArray<Job<W>>, revoked: boolean): void => {
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

const clearRevoke = (job: Job<any>): void => {
  job.revokeTimer?.cancel()
  job.revokeTimer = undefined
}

const clearGrace = (job: Job<any>): void => {
  job.graceTimer?.cancel()
  job.graceTimer = undefined
}

// --- taking a job back (see `interrupts.ts`, which decides when) ---

/**
 * A caller wants the job stopped and `onStopped` called once it has. True
 * for the first such caller, who starts the stop; later ones only wait.
 */
export const beginStop = (job: Job<any>, onStopped: () => void): boolean => {
  if (job.stopping !== undefined) {
    job.stopping.push(onStopped)
    return false
  }
  job.stopping = [onStopped]
  return true
}

/** The job's INTERRUPT left for its worker at `now`; its grace starts. */
export const interruptSent = (job: Job<any>, now: number, grace: Timer): void => {
  job.interruptedAt = now
  waitFor(job, grace)
}

/** What the job waits for next while it is being interrupted (a grace, a re-check). */
export const waitFor = (job: Job<any>, timer: Timer | undefined): void => {
  job.graceTimer?.cancel()
  job.graceTimer = timer
}

/** A REVOKE was sent for the job; `timer` queues it again if no answer comes. */
export const revokeSent = (job: Job<any>, timer: Timer): void => {
  job.revoking = true
  revokeWait(job, timer)
}

/** What the revoke of the job waits for next. */
export const revokeWait = (job: Job<any>, timer: Timer | undefined): void => {
  job.revokeTimer?.cancel()
  job.revokeTimer = timer
}
