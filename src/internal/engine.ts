/**
 * The pool's engine: the parent's queue of jobs, its workers, dispatch,
 * interruption, crashes, start failures and shutdown.
 *
 * Data flow (compare CPython's `concurrent/futures/process.py`):
 *
 *   caller fiber ──submit──▶ queue ──dispatch──▶ worker slot ──IPC Run──▶ worker process
 *        ▲                                                                     │
 *        └────────────── Job.onEnd ◀── answer (Done | Outcomes | JobFailed) ◀──┘
 *
 * The engine is synchronous, callback-driven code: every event (a job, an
 * answer, a worker's death, a timer) updates the state and schedules one
 * dispatch in a microtask, so that the jobs submitted in one burst leave in
 * one IPC write per worker. The Effect API in `ProcessPool.ts` wraps it.
 *
 * Invariants:
 * - a job is in exactly one place: the queue, one worker's `inflight`, or ended;
 * - a worker's `inflight` is in send order and the worker runs in that order, so
 *   `inflight[0]` is the only job that may be running (see `protocol.ts`);
 * - a worker that is starting is sent nothing: it takes nothing ahead;
 * - a job's `onEnd` is called at most once, and never for a job whose caller
 *   interrupted it (that caller is resumed through its stop callbacks instead).
 *
 * @internal
 */
import {
  PoolClosed,
  type ProcessPoolErrorReason,
  TaskCodecError,
  WorkerCrashed,
  WorkerStartError
} from "../ProcessPoolError.ts"
import type * as Task from "../Task.ts"
import { deserializeDefect, type SerializedDefect } from "./codec.ts"
import * as Metrics from "./metrics.ts"
import * as P from "./protocol.ts"
import { makeReaper, spawn, type WorkerProcess } from "./workerProcess.ts"

// ---------------------------------------------------------------------------
// tuning, each with its trade-off
// ---------------------------------------------------------------------------

/**
 * How much expected work (by the worker's measured time per job) the parent
 * sends a worker ahead of the job it is running. Enough that a worker running
 * tiny tasks never waits for a round trip through the parent; small enough
 * that work held by one worker while another idles is at most this long.
 */
const PREFETCH_BUDGET_MS = 2

/** At most this many jobs are held ahead by one worker, whatever their size. */
const MAX_AHEAD = 128

/**
 * A worker whose jobs take less than `HOLD_AHEAD_BELOW_MS` holds at least
 * `MIN_AHEAD` jobs ahead, so that it does not idle for a round trip through
 * the parent between two jobs: with chunks of ~20 ms (`map`'s "auto"), that
 * round trip, with the parent decoding one chunk and encoding the next, is a
 * noticeable share (measured: workers 30% idle without it). Longer jobs are
 * not held ahead: the share is small, and a job held behind a long one would
 * wait for it. An idle worker takes held jobs back from a busy one (work
 * stealing), so holding ahead does not leave a worker idle while another has
 * work it has not started.
 */
const MIN_AHEAD = 1
const HOLD_AHEAD_BELOW_MS = 50

/** Weight of the newest sample in a worker's moving average of time per job. */
const SERVICE_TIME_ALPHA = 0.3

/**
 * Start failures back off: the n-th consecutive failure delays the next start
 * by `RESTART_BACKOFF_INITIAL_MS * 2^(n-1)`, at most `RESTART_BACKOFF_MAX_MS`.
 * The pool never respawns in a tight loop, and it still retries often enough to
 * recover soon after starts succeed again.
 */
const RESTART_BACKOFF_INITIAL_MS = 100
const RESTART_BACKOFF_MAX_MS = 5_000

/**
 * When a job's grace expires while another job of its worker is still
 * unanswered, the pool concludes that the worker has seen the interrupt before
 * the job could start (see `graceExpired`). That holds only once the interrupt
 * has had time to arrive and be read, so the conclusion waits at least this
 * long, whatever `interruptGrace` is.
 */
const MIN_HELD_WAIT_MS = 100

/**
 * A worker that has not said it is ready this long after its spawn is killed
 * and counted as a start failure: a start never waits for ever. Starting is
 * mostly importing `effect` (a few hundred ms, several seconds on a loaded
 * machine), so this is generous.
 */
const START_TIMEOUT_MS = 30_000

/**
 * A worker killed by SIGKILL or SIGTERM while starting was most likely killed
 * from outside (an operator, the OOM killer), which says nothing about whether
 * workers can start: the pool retries without failing queued tasks — up to
 * this many times in a row, after which it treats the kills as a start failure.
 */
const MAX_KILLED_STARTS = 5

/**
 * After the pool killed its workers (at the end of `shutdownTimeout`), how long
 * it waits for them to be gone before it gives up waiting. SIGKILL cannot be
 * ignored, so this bounds only a kernel that is slow to reap.
 */
const KILL_WAIT_MS = 2_000

// ---------------------------------------------------------------------------
// records
// ---------------------------------------------------------------------------

export interface EngineOptions {
  readonly maxWorkers: number
  readonly minWorkers: number
  readonly maxTasksPerWorker: number | undefined
  readonly interruptGraceMs: number
  readonly shutdownTimeoutMs: number
  readonly idleTimeoutMs: number | undefined
  readonly execArgv: ReadonlyArray<string>
  readonly env: Readonly<Record<string, string>>
  readonly serialization: "json" | "advanced"
  /** bytes of RSS after a job above which a worker is replaced */
  readonly maxWorkerMemory: number | undefined
  /** the workers' stdout and stderr: inherited, or each line logged */
  readonly stdio: "inherit" | "log"
}

/** A log entry from a worker: made by `Effect.log` in a task, or a line of its output. */
export interface LogEntry {
  readonly level: string
  readonly message: ReadonlyArray<unknown>
  readonly annotations: Readonly<Record<string, unknown>>
}

/** What the engine tells the Effect side about, besides jobs ending. */
export interface Hooks {
  readonly metrics: Metrics.Recorder
  /** `caller` is the `Caller.context` of the job the entry belongs to, if any */
  readonly onLog: (caller: unknown, entry: LogEntry) => void
}

/**
 * The fiber a job is for: what is sent to the worker of it (`wire`; absent for
 * a caller with nothing to send), and its context, for its log entries.
 */
export interface Caller {
  readonly wire?: P.Caller | undefined
  readonly context: unknown
}

/** How a job ended, as its caller sees it. */
export type JobEnd =
  | readonly [kind: typeof ANSWERED, answer: P.Done | P.Outcomes | P.JobFailed, pid: number, serviceMs: number]
  | readonly [kind: typeof ERRORED, reason: ProcessPoolErrorReason]
  | readonly [kind: typeof INTERRUPTED]

export const ANSWERED = 0
export const ERRORED = 1
export const INTERRUPTED = 2

const QUEUED = 0
const SENT = 1
const ENDED = 2

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
   * released (see `releaseInputs`) once it ends or its worker is running it.
   */
  inputs: ReadonlyArray<unknown>
  /** how many inputs the job has */
  readonly count: number
  /** see `P.Run`; 0 for none */
  readonly group: number
  readonly onEnd: (end: JobEnd) => void
  readonly caller: Caller | undefined
  readonly submittedAt: number
  state: typeof QUEUED | typeof SENT | typeof ENDED
  worker: Slot | undefined
  sentAt: number
  /** callbacks of callers waiting for this job to stop; set once it is being interrupted */
  stopping: Array<() => void> | undefined
  /** a REVOKE was sent for it: an idle worker wants it */
  revoking: boolean
  /** queues it again if the REVOKE went unanswered (see `stealForIdle`); cleared once that no longer applies */
  revokeTimer: NodeJS.Timeout | undefined
  interruptedAt: number
  graceTimer: NodeJS.Timeout | undefined
}

const STARTING = 0
const READY = 1
/** asked to exit (recycled, idle, or a module failed to import in it): sent nothing more */
const RETIRING = 2
const GONE = 3

interface Slot {
  readonly id: number
  readonly process: WorkerProcess
  readonly pid: number
  state: typeof STARTING | typeof READY | typeof RETIRING | typeof GONE
  readonly inflight: Array<Job>
  /** the inputs of all jobs in `inflight` (kept as they move, for `stats` and the gauges) */
  inflightInputs: number
  outbox: Array<P.ToWorker>
  readonly defined: Set<number>
  jobsSent: number
  /** moving average of the time the worker takes per job; NaN before its first answer */
  serviceMs: number
  lastAnswerAt: number
  /** the pool killed it (an interrupt past its grace, or shutdown): not a crash */
  killed: boolean
  idleTimer: NodeJS.Timeout | undefined
  startTimer: NodeJS.Timeout | undefined
  startTimedOut: boolean
  /** task references whose module and layer this worker has loaded (P.LOADED) */
  readonly loaded: Set<number>
  /** something it wrote to its channel was dropped, and that was logged */
  droppedLogged: boolean
  /**
   * It has been sent its last job (`maxTasksPerWorker`): it takes no more,
   * retires once it has answered, and no longer counts as live, so that its
   * replacement starts while it runs that job.
   */
  finishing: boolean
}

export interface PoolStats {
  /** worker processes alive (starting, ready or finishing their last job) */
  readonly workers: number
  /** workers running a job */
  readonly busy: number
  /** inputs not started yet: in the parent's queue or taken ahead by a worker */
  readonly queued: number
  /** inputs that succeeded */
  readonly completed: number
  /** inputs that failed: typed errors, defects, pool errors */
  readonly failed: number
  /** workers that died unexpectedly */
  readonly crashed: number
  /** workers started to replace one that died, was killed or was recycled */
  readonly restarted: number
}

// ---------------------------------------------------------------------------
// the engine
// ---------------------------------------------------------------------------

export interface Engine {
  /** Queues a job; `onEnd` is called once, in a microtask, when it ends (unless its caller interrupted it). */
  readonly submit: (
    task: Task.Any,
    inputs: ReadonlyArray<unknown>,
    mode: P.Mode,
    onEnd: (end: JobEnd) => void,
    caller?: Caller,
    group?: number
  ) => Job
  /**
   * Stops a job. `onStopped` is called once the job has really stopped: at
   * once for a queued one, on the worker's confirmation for a sent one, or
   * once its worker is dead when it did not confirm within `interruptGrace`.
   */
  readonly interrupt: (job: Job, onStopped: () => void) => void
  /** Counts inputs of a task whose outcome the caller decoded. */
  readonly record: (task: string, completed: number, failed: number, interrupted: number) => void
  readonly stats: () => PoolStats
  /** Refuses new work, stops all jobs, asks the workers to exit, kills stragglers. */
  readonly shutdown: (onDone: () => void) => void
}

export const make = (options: EngineOptions, hooks: Hooks): Engine => {
  const metrics = hooks.metrics
  const reaper = makeReaper()
  const slots = new Set<Slot>()
  const queue: Array<Job | undefined> = []
  let queueHead = 0
  let queuedInputs = 0
  let nextJobId = 0
  let nextWorkerId = 0
  const refs = new Map<string, number>()

  let closed = false
  let dispatchScheduled = false
  let completed = 0
  let failed = 0
  let crashed = 0
  let restarted = 0
  /** workers lost (crashed, killed, recycled) and not replaced yet */
  let toReplace = 0
  /**
   * workers sent their last job whose replacement has not started: started
   * at once, whatever the queue holds, as Python keeps `max_workers` alive
   */
  let recycling = 0

  let startFailures = 0
  let killedStarts = 0
  let nextStartAt = 0
  let startTimer: NodeJS.Timeout | undefined
  /** set while no worker can start: new jobs fail at once until the next attempt */
  let startBroken: WorkerStartError | undefined
  /** modules that failed to import: their jobs fail at once until `retryAt` */
  const brokenModules = new Map<string, { error: WorkerStartError; retryAt: number; failures: number }>()
  let onShutdownDone: (() => void) | undefined

  // --- jobs -----------------------------------------------------------------

  const refOf = (task: Task.Any): number => {
    const key = `${task.module}\u0000${task.key}`
    let ref = refs.get(key)
    if (ref === undefined) {
      ref = refs.size
      refs.set(key, ref)
    }
    return ref
  }

  /**
   * Ends a job: its state changes now, its caller hears of it in a microtask.
   * The engine never calls out while it is in the middle of changing its own
   * state, so a caller that reacts by submitting or interrupting other jobs
   * (a stream taking its next inputs) finds the engine consistent.
   */
  const end = (job: Job, result: JobEnd): void => {
    if (job.state === ENDED) return
    if (job.state === QUEUED) queuedInputs -= job.count
    job.state = ENDED
    job.inputs = NO_INPUTS
    job.worker = undefined
    if (job.graceTimer !== undefined) clearTimeout(job.graceTimer)
    // a pending timer would keep the job, and what its caller's callback holds, alive
    clearRevokeTimer(job)
    refreshGauges()
    deliveries.push(job, result)
    if (!delivering) {
      delivering = true
      queueMicrotask(deliver)
    }
  }

  const deliveries: Array<Job | JobEnd> = []
  let delivering = false

  const deliver = (): void => {
    // a callback may end more jobs: they are delivered in this same loop
    try {
      for (let i = 0; i < deliveries.length; i += 2) {
        const job = deliveries[i] as Job
        const result = deliveries[i + 1] as JobEnd
        if (job.stopping !== undefined) {
          for (const stopped of job.stopping) guarded(stopped)
        } else {
          guarded(() => job.onEnd(result))
        }
      }
    } finally {
      deliveries.length = 0
      delivering = false
    }
  }

  /**
   * Runs a caller's callback. Resuming a fiber runs the caller's code at once
   * (its continuation, its observers), so a throw there must not stop the
   * loop that delivers everyone else's results: it is logged, and the pool
   * goes on.
   */
  const guarded = (callback: () => void): void => {
    try {
      callback()
    } catch (error) {
      hooks.onLog(undefined, {
        level: "Error",
        message: ["effect-process-pool: code resumed by the pool threw; the pool goes on", error],
        annotations: {}
      })
    }
  }

  const submit: Engine["submit"] = (task, inputs, mode, onEnd, caller, group = 0) => {
    const now = performance.now()
    const job: Job = {
      id: nextJobId++,
      task,
      ref: refOf(task),
      mode,
      inputs,
      count: inputs.length,
      group,
      onEnd,
      caller,
      submittedAt: now,
      state: QUEUED,
      worker: undefined,
      sentAt: 0,
      stopping: undefined,
      revoking: false,
      revokeTimer: undefined,
      interruptedAt: 0,
      graceTimer: undefined
    }
    queuedInputs += inputs.length
    metrics.tasks(Metrics.tasksSubmitted, task.name, inputs.length)
    if (closed) {
      end(job, [ERRORED, new PoolClosed({ task: task.name })])
      return job
    }
    const broken = brokenModules.get(task.module)
    if (broken !== undefined && now < broken.retryAt) {
      // after `retryAt` jobs go through again: the next one is the trial
      end(job, [ERRORED, withTask(broken.error, task.name)])
      return job
    }
    if (startBroken !== undefined && now < nextStartAt && liveWorkers() === 0) {
      end(job, [ERRORED, withTask(startBroken, task.name)])
      return job
    }
    queue.push(job)
    scheduleDispatch()
    return job
  }

  const takeQueued = (): Job | undefined => {
    while (queueHead < queue.length) {
      const job = queue[queueHead]
      queue[queueHead++] = undefined
      if (job !== undefined && job.state === QUEUED) {
        if (queueHead > 1024 && queueHead * 2 > queue.length) {
          queue.splice(0, queueHead)
          queueHead = 0
        }
        return job
      }
    }
    queue.length = queueHead = 0
    return undefined
  }

  const hasQueued = (): boolean => {
    while (queueHead < queue.length) {
      const job = queue[queueHead]
      if (job !== undefined && job.state === QUEUED) return true
      queueHead++
    }
    return false
  }

  /** Puts jobs a dead worker held back at the front of the queue, in order. */
  const requeueFront = (jobs: ReadonlyArray<Job>): void => {
    for (let i = jobs.length - 1; i >= 0; i--) {
      const job = jobs[i]!
      job.state = QUEUED
      job.worker = undefined
      queuedInputs += job.count
      if (queueHead > 0) queue[--queueHead] = job
      else queue.unshift(job)
    }
  }

  const failAllQueued = (reason: (task: string) => ProcessPoolErrorReason, filter?: (job: Job) => boolean): void => {
    for (let i = queueHead; i < queue.length; i++) {
      const job = queue[i]
      if (job !== undefined && job.state === QUEUED && (filter === undefined || filter(job))) {
        queue[i] = undefined
        end(job, [ERRORED, reason(job.task.name)])
      }
    }
  }

  // --- interruption ----------------------------------------------------------

  const interrupt: Engine["interrupt"] = (job, onStopped) => {
    if (job.state === ENDED) return queueMicrotask(() => guarded(onStopped))
    if (job.stopping !== undefined) {
      job.stopping.push(onStopped)
      return
    }
    job.stopping = [onStopped]
    job.interruptedAt = performance.now()
    if (job.state === QUEUED) return end(job, [INTERRUPTED])
    const slot = job.worker!
    slot.outbox.push([P.INTERRUPT, job.id])
    // sent with the next dispatch, in this microtask: interrupts of many jobs
    // at once (a failed map) reach a worker in one batch, which it reads whole
    scheduleDispatch()
    job.graceTimer = setTimeout(() => graceExpired(job), options.interruptGraceMs)
  }

  const graceExpired = (job: Job): void => {
    job.graceTimer = undefined
    if (job.state !== SENT) return
    const slot = job.worker!
    if (slot.inflight[0] === job) {
      // it may be running and is not answering (a synchronous loop cannot):
      // kill the worker; the job ends when the worker is gone
      killSlot(slot)
      return
    }
    // A job behind another unanswered one has certainly not started (the worker
    // answers a job before it starts the next), and the worker reads its pipe
    // before starting a job after one that ran this long: it will see the
    // interrupt first. Nothing to wait for.
    const waited = performance.now() - job.interruptedAt
    if (waited < MIN_HELD_WAIT_MS) {
      job.graceTimer = setTimeout(() => graceExpired(job), MIN_HELD_WAIT_MS - waited)
      return
    }
    removeInflight(slot, job)
    end(job, [INTERRUPTED])
  }

  // --- workers ---------------------------------------------------------------

  /** Starting, or ready and not finishing: a worker that can take work. */
  const isLive = (slot: Slot): boolean => slot.state === STARTING || (slot.state === READY && !slot.finishing)

  const liveWorkers = (): number => {
    let n = 0
    for (const slot of slots) if (isLive(slot)) n++
    return n
  }

  const startWorker = (): void => {
    const id = nextWorkerId++
    let slot: Slot | undefined
    const process = spawn(
      {
        id,
        execArgv: options.execArgv,
        env: options.env,
        serialization: options.serialization,
        maxRss: options.maxWorkerMemory,
        stdio: options.stdio
      },
      {
        onMessage: (message) => onMessages(slot!, message),
        onForeign: (bytes) => dropped(slot!, `${bytes} bytes that are not a message of the pool's`),
        onBroken: (reason) => {
          dropped(slot!, `the channel is broken (${reason}); the worker is killed`)
          killSlot(slot!)
        },
        onGone: (code, signal, spawnError) => onGone(slot!, code, signal, spawnError),
        onOutput: (stream, line) =>
          hooks.onLog(undefined, {
            level: stream === "stdout" ? "Info" : "Warn",
            message: [line],
            annotations: { workerId: id, pid: slot!.pid, stream }
          })
      }
    )
    slot = {
      id,
      process,
      pid: process.pid ?? -1,
      state: STARTING,
      inflight: [],
      inflightInputs: 0,
      outbox: [],
      defined: new Set(),
      jobsSent: 0,
      serviceMs: Number.NaN,
      lastAnswerAt: 0,
      killed: false,
      idleTimer: undefined,
      startTimer: undefined,
      startTimedOut: false,
      loaded: new Set(),
      droppedLogged: false,
      finishing: false
    }
    const started = slot
    slot.startTimer = setTimeout(() => {
      if (started.state !== STARTING) return
      started.startTimedOut = true
      started.process.kill()
    }, START_TIMEOUT_MS)
    slots.add(slot)
    metrics.workers(Metrics.workerStarts)
    if (process.pid !== undefined) reaper.add(process.pid)
    if (toReplace > 0) {
      toReplace--
      restarted++
    }
    if (recycling > 0) recycling--
  }

  const killSlot = (slot: Slot): void => {
    slot.killed = true
    slot.process.kill()
  }

  const retire = (slot: Slot): void => {
    if (slot.state === RETIRING || slot.state === GONE) return
    slot.state = RETIRING
    clearIdle(slot)
    slot.outbox.push([P.SHUTDOWN])
    flushSlot(slot)
  }

  const clearIdle = (slot: Slot): void => {
    if (slot.idleTimer !== undefined) {
      clearTimeout(slot.idleTimer)
      slot.idleTimer = undefined
    }
  }

  /**
   * What arrived on a worker's channel that is not a record of the protocol,
   * or not one that fits the parent's state: dropped, counted, and logged at
   * Debug once per worker (a task that writes to the channel by hand would
   * otherwise fill the log).
   */
  const dropped = (slot: Slot, what: string): void => {
    metrics.workers(Metrics.messagesDropped)
    if (slot.droppedLogged) return
    slot.droppedLogged = true
    hooks.onLog(undefined, {
      level: "Debug",
      message: [`effect-process-pool: dropped what worker ${slot.id} (pid ${slot.pid}) wrote to its channel: ${what}`],
      annotations: { workerId: slot.id, pid: slot.pid }
    })
  }

  const onMessages = (slot: Slot, batch: unknown): void => {
    if (!Array.isArray(batch)) return dropped(slot, `a frame that is not a batch: ${preview(batch)}`)
    for (const message of batch) {
      if (!P.isFromWorker(message)) {
        dropped(slot, `a record that is not the protocol's: ${preview(message)}`)
        continue
      }
      switch (message[0]) {
        case P.READY:
          if (slot.state === STARTING) slot.state = READY
          clearTimeout(slot.startTimer)
          startFailures = 0
          killedStarts = 0
          startBroken = undefined
          break
        case P.LOADED:
          slot.loaded.add(message[1])
          break
        case P.OVER_MEMORY:
          // recycled like maxTasksPerWorker: it finishes what it holds, releases its layers, exits
          toReplace++
          metrics.workers(Metrics.workerRecycles)
          retire(slot)
          break
        case P.REVOKED:
          onRevoked(slot, message[1])
          break
        case P.LOG: {
          const job = slot.inflight.find((job) => job.id === message[1])
          const annotations = {
            ...message[4],
            workerId: slot.id,
            pid: slot.pid,
            ...(job ? { task: job.task.name } : {})
          }
          hooks.onLog(job?.caller?.context, { level: message[2], message: message[3], annotations })
          break
        }
        default:
          onAnswer(slot, message)
      }
    }
    scheduleDispatch()
  }

  const onAnswer = (slot: Slot, answer: P.Done | P.Outcomes | P.JobFailed): void => {
    const i = slot.inflight.findIndex((job) => job.id === answer[1])
    // a held job the parent already gave up on (see graceExpired)
    if (i === -1) return
    if (!fitsJob(answer, slot.inflight[i]!))
      return dropped(slot, `an answer that does not fit its job: ${preview(answer)}`)
    const job = removeInflightAt(slot, i)
    const now = performance.now()
    const sample = now - Math.max(job.sentAt, slot.lastAnswerAt)
    slot.serviceMs = Number.isNaN(slot.serviceMs)
      ? sample
      : slot.serviceMs + SERVICE_TIME_ALPHA * (sample - slot.serviceMs)
    slot.lastAnswerAt = now
    metrics.timing(Metrics.runTime, job.task.name, sample)
    if (answer[0] === P.JOB_FAILED && answer[2][0] === P.IMPORT_FAILED) {
      onImportFailed(slot, job, answer[2][1])
    } else if (brokenModules.size > 0) {
      brokenModules.delete(job.task.module)
    }
    end(job, [ANSWERED, answer, slot.pid, sample])
    if (slot.finishing && slot.inflight.length === 0) retire(slot)
  }

  /**
   * A module that throws on import poisons it in that worker (ES modules cache
   * the failure), so the worker is retired and a fresh one will try again; until
   * then, jobs for that module fail at once instead of each costing a worker.
   */
  const onImportFailed = (slot: Slot, job: Job, defect: SerializedDefect): void => {
    markModuleBroken(job.task.module, importFailed(job.task, defect, slot.pid))
    toReplace++
    retire(slot)
  }

  const markModuleBroken = (module: string, error: WorkerStartError): void => {
    const failures = (brokenModules.get(module)?.failures ?? 0) + 1
    brokenModules.set(module, { error, retryAt: performance.now() + backoffMs(failures), failures })
    failAllQueued(
      (task) => withTask(error, task),
      (queued) => queued.task.module === module
    )
  }

  const onGone = (
    slot: Slot,
    exitCode: number | null,
    signal: NodeJS.Signals | null,
    spawnError: Error | undefined
  ): void => {
    const wasStarting = slot.state === STARTING
    const expected = slot.state === RETIRING || slot.killed || closed
    slot.state = GONE
    clearIdle(slot)
    clearTimeout(slot.startTimer)
    slots.delete(slot)
    if (slot.pid !== -1) reaper.remove(slot.pid)
    const inflight = slot.inflight.splice(0, slot.inflight.length)
    slot.inflightInputs = 0
    if (wasStarting && !closed) {
      onStartFailed(slot, exitCode, signal, spawnError)
    } else if (!expected) {
      crashed++
      metrics.workers(Metrics.workerCrashes)
      // a finishing worker was counted as replaced when it was sent its last job
      if (!slot.finishing) toReplace++
    } else if (slot.killed && !closed && !slot.finishing) {
      toReplace++
    }
    const running = inflight.shift()
    if (running !== undefined) {
      if (running.stopping !== undefined) end(running, [INTERRUPTED])
      else if (!slot.loaded.has(running.ref) && !expected && !killedFromOutside(signal)) {
        onLoadFailed(slot, running, exitCode, signal)
      } else {
        end(running, [ERRORED, new WorkerCrashed({ task: running.task.name, pid: slot.pid, exitCode, signal })])
      }
    }
    // the jobs it held had not started: they go back to the queue, except those
    // being interrupted, which end now
    const held: Array<Job> = []
    for (const job of inflight) {
      if (job.stopping !== undefined || closed) end(job, [INTERRUPTED])
      else held.push(job)
    }
    requeueFront(held)
    if (closed) checkShutdownDone()
    else scheduleDispatch()
  }

  /**
   * The worker died while importing a task's module or building its layer
   * (before P.LOADED): a start failure of that module, like a throw on import.
   */
  const onLoadFailed = (slot: Slot, job: Job, exitCode: number | null, signal: NodeJS.Signals | null): void => {
    const stderr = slot.process.stderrTail().trim()
    const how = signal !== null ? `was killed by ${signal}` : `exited with code ${exitCode}`
    const error = new WorkerStartError({
      message: `The worker process (pid ${slot.pid}) ${how} while loading task "${job.task.name}" (${job.task.module})${
        stderr ? `:\n${stderr}` : ""
      }`,
      task: job.task.name,
      pid: slot.pid,
      exitCode,
      signal,
      ...(stderr ? { stderr } : {})
    })
    markModuleBroken(job.task.module, error)
    end(job, [ERRORED, error])
  }

  const onStartFailed = (
    slot: Slot,
    exitCode: number | null,
    signal: NodeJS.Signals | null,
    spawnError: Error | undefined
  ): void => {
    const killed = !slot.startTimedOut && killedFromOutside(signal)
    if (killed && ++killedStarts < MAX_KILLED_STARTS) {
      nextStartAt = performance.now() + backoffMs(killedStarts)
      return
    }
    startFailures++
    nextStartAt = performance.now() + backoffMs(startFailures)
    const stderr = slot.process.stderrTail().trim()
    const pid = slot.pid === -1 ? "" : ` (pid ${slot.pid})`
    const message = killed
      ? `${MAX_KILLED_STARTS} worker processes in a row were killed by ${signal} while starting, the last${pid} too: ` +
        "something outside the pool kills its workers (an operator, the OOM killer); the tasks waiting fail, " +
        "and starts resume after a back-off"
      : `A worker process${pid} ${
          spawnError !== undefined
            ? `could not be spawned: ${spawnError.message}`
            : slot.startTimedOut
              ? `did not start within ${START_TIMEOUT_MS / 1000} s`
              : signal !== null
                ? `was killed by ${signal} before it was ready`
                : `exited with code ${exitCode} before it was ready`
        }`
    const error = new WorkerStartError({
      message: `${message}${stderr ? `:\n${stderr}` : ""}`,
      task: "",
      ...(slot.pid === -1 ? {} : { pid: slot.pid }),
      exitCode,
      signal,
      ...(stderr ? { stderr } : {}),
      ...(spawnError !== undefined ? { cause: spawnError } : {})
    })
    if (liveWorkers() === 0) {
      // nothing can serve the queue: fail it now rather than let it wait
      startBroken = error
      failAllQueued((task) => withTask(error, task))
    }
  }

  // --- dispatch --------------------------------------------------------------

  const scheduleDispatch = (): void => {
    if (dispatchScheduled) return
    dispatchScheduled = true
    queueMicrotask(dispatch)
  }

  const capacity = (slot: Slot): number => {
    if (slot.state !== READY || slot.finishing) return 0
    const ahead =
      Number.isNaN(slot.serviceMs) || slot.serviceMs >= HOLD_AHEAD_BELOW_MS
        ? 0
        : Math.max(MIN_AHEAD, Math.min(MAX_AHEAD, Math.floor(PREFETCH_BUDGET_MS / Math.max(slot.serviceMs, 0.001))))
    const window = 1 + ahead
    // a busy worker is topped up only once it has used half of what it holds,
    // so that one IPC write carries many jobs instead of one per answer
    if (slot.inflight.length > 0 && slot.inflight.length > window / 2) return 0
    let room = window - slot.inflight.length
    if (options.maxTasksPerWorker !== undefined) room = Math.min(room, options.maxTasksPerWorker - slot.jobsSent)
    return room
  }

  const dispatch = (): void => {
    dispatchScheduled = false
    if (closed) {
      for (const slot of slots) flushSlot(slot)
      return
    }
    // hand queued jobs to ready workers, least loaded first
    while (hasQueued()) {
      let best: Slot | undefined
      let bestRoom = 0
      for (const slot of slots) {
        const room = capacity(slot)
        if (room > 0 && (best === undefined || slot.inflight.length < best.inflight.length)) {
          best = slot
          bestRoom = room
        }
      }
      if (best === undefined) break
      for (let i = 0; i < bestRoom; i++) {
        // fill the least loaded worker up to its room, but keep loads even
        const job = takeQueued()
        if (job === undefined) break
        assign(best, job)
        if (i + 1 < bestRoom && !isLeastLoaded(best)) break
      }
    }
    if (!hasQueued()) stealForIdle()
    for (const slot of slots) flushSlot(slot)
    startWorkersIfNeeded()
    armIdleTimers()
    refreshGauges()
  }

  /** The gauges follow the state: called wherever jobs move. */
  const refreshGauges = (): void => {
    metrics.gauge(Metrics.queueDepth, queuedInputs + heldInputs())
    metrics.gauge(Metrics.busyWorkers, busyWorkers())
  }

  /** inputs taken ahead by workers: every job of a worker but the one it may be running */
  const heldInputs = (): number => {
    let held = 0
    for (const slot of slots) {
      if (slot.inflight.length > 1) held += slot.inflightInputs - slot.inflight[0]!.count
    }
    return held
  }

  const busyWorkers = (): number => {
    let busy = 0
    for (const slot of slots) if (slot.inflight.length > 0) busy++
    return busy
  }

  /**
   * Work stealing: for each idle worker, take back the last job held (not
   * started) by the worker that holds the most, to be queued again.
   */
  const stealForIdle = (): void => {
    for (const idle of slots) {
      if (idle.state !== READY || idle.inflight.length > 0) continue
      let donor: Slot | undefined
      for (const slot of slots) {
        if (
          slot !== idle &&
          slot.inflight.length >= 2 &&
          (donor === undefined || slot.inflight.length > donor.inflight.length)
        ) {
          donor = slot
        }
      }
      if (donor === undefined) return
      const job = donor.inflight[donor.inflight.length - 1]!
      if (job.revoking || job.stopping !== undefined) continue
      job.revoking = true
      donor.outbox.push([P.REVOKE, job.id])
      // A worker busy in a synchronous loop reads the REVOKE only when the
      // loop ends. By then it reads it before it would start this job (see
      // `graceExpired` for why), so once the REVOKE has had time to arrive,
      // the job can be queued again without waiting for the answer.
      const from = donor
      job.revokeTimer = setTimeout(() => {
        job.revokeTimer = undefined
        const stale = job.state !== SENT || job.worker !== from || !job.revoking || job.stopping !== undefined
        if (stale || from.inflight[0] === job) return
        removeInflight(from, job)
        from.jobsSent--
        job.revoking = false
        requeueFront([job])
        scheduleDispatch()
      }, MIN_HELD_WAIT_MS)
    }
  }

  const clearRevokeTimer = (job: Job): void => {
    if (job.revokeTimer === undefined) return
    clearTimeout(job.revokeTimer)
    job.revokeTimer = undefined
  }

  const onRevoked = (slot: Slot, id: number): void => {
    const job = removeInflightById(slot, id)
    if (job === undefined) return // already queued again by the timer above
    slot.jobsSent--
    job.revoking = false
    clearRevokeTimer(job)
    if (job.stopping !== undefined || closed) return end(job, [INTERRUPTED])
    requeueFront([job])
  }

  const isLeastLoaded = (slot: Slot): boolean => {
    for (const other of slots) {
      if (other !== slot && capacity(other) > 0 && other.inflight.length < slot.inflight.length) return false
    }
    return true
  }

  const assign = (slot: Slot, job: Job): void => {
    queuedInputs -= job.count
    clearIdle(slot)
    if (!slot.defined.has(job.ref)) {
      slot.defined.add(job.ref)
      slot.outbox.push([P.DEFINE, job.ref, job.task.module, job.task.key, job.task.name])
    }
    const wire = job.caller?.wire
    slot.outbox.push(
      wire === undefined
        ? [P.RUN, job.id, job.ref, job.mode, job.inputs, job.group]
        : [P.RUN, job.id, job.ref, job.mode, job.inputs, job.group, wire]
    )
    job.state = SENT
    job.worker = slot
    job.sentAt = performance.now()
    metrics.timing(Metrics.queueWait, job.task.name, job.sentAt - job.submittedAt)
    slot.inflight.push(job)
    slot.inflightInputs += job.count
    slot.jobsSent++
    if (slot.inflight.length === 1) releaseInputs(job)
    if (options.maxTasksPerWorker !== undefined && slot.jobsSent >= options.maxTasksPerWorker && !slot.finishing) {
      slot.finishing = true
      toReplace++
      recycling++
      metrics.workers(Metrics.workerRecycles)
    }
  }

  const flushSlot = (slot: Slot): void => {
    if (slot.outbox.length === 0) return
    const batch = slot.outbox
    slot.outbox = []
    try {
      slot.process.send(batch)
    } catch {
      // one message could not be serialized: send them one by one, and fail
      // the job whose payload is at fault
      for (const message of batch) {
        try {
          slot.process.send([message])
        } catch (error) {
          if (message[0] !== P.RUN) continue
          const job = removeInflightById(slot, message[1])
          if (job === undefined) continue
          end(job, [
            ERRORED,
            new TaskCodecError({
              task: job.task.name,
              phase: "payload",
              message: `The payload could not be serialized: ${error instanceof Error ? error.message : String(error)}`
            })
          ])
        }
      }
    }
  }

  const startWorkersIfNeeded = (): void => {
    if (closed) return
    let live = 0
    let starting = 0
    for (const slot of slots) {
      if (slot.state === STARTING) starting++
      if (isLive(slot)) live++
    }
    // jobs held behind a running one count as waiting too: a new worker will
    // take them back (work stealing) instead of letting them wait
    let waiting = 0
    for (const slot of slots) if (slot.inflight.length > 1) waiting += slot.inflight.length - 1
    for (let i = queueHead; i < queue.length && waiting < options.maxWorkers + starting; i++) {
      if (queue[i]?.state === QUEUED) waiting++
    }
    const wanted = Math.max(
      options.minWorkers - live,
      Math.min(Math.max(waiting - starting, recycling), options.maxWorkers - live)
    )
    if (wanted <= 0) return
    const now = performance.now()
    if (now < nextStartAt) {
      if (startTimer === undefined) {
        startTimer = setTimeout(() => {
          startTimer = undefined
          scheduleDispatch()
        }, nextStartAt - now)
      }
      return
    }
    // after a start failure, one worker at a time until one starts
    const n = startFailures > 0 ? Math.min(wanted, 1 - starting) : wanted
    for (let i = 0; i < n; i++) startWorker()
  }

  const armIdleTimers = (): void => {
    if (options.idleTimeoutMs === undefined) return
    let live = liveWorkers()
    for (const slot of slots) {
      if (slot.state !== READY || slot.inflight.length > 0 || slot.idleTimer !== undefined) continue
      if (live <= options.minWorkers) break
      live--
      slot.idleTimer = setTimeout(() => {
        slot.idleTimer = undefined
        if (slot.inflight.length === 0 && liveWorkers() > options.minWorkers) retire(slot)
      }, options.idleTimeoutMs)
      slot.idleTimer.unref()
    }
  }

  // --- shutdown --------------------------------------------------------------

  const shutdown: Engine["shutdown"] = (onDone) => {
    if (closed) return onDone()
    closed = true
    onShutdownDone = onDone
    if (startTimer !== undefined) clearTimeout(startTimer)
    for (let i = queueHead; i < queue.length; i++) {
      const job = queue[i]
      if (job !== undefined) end(job, [INTERRUPTED])
    }
    queue.length = queueHead = 0
    for (const slot of slots) {
      clearIdle(slot)
      for (const job of [...slot.inflight]) {
        if (job.stopping === undefined) interrupt(job, () => job.onEnd([INTERRUPTED]))
      }
      if (slot.state === STARTING) killSlot(slot)
      else retire(slot)
    }
    const deadline = setTimeout(() => {
      for (const slot of slots) killSlot(slot)
      setTimeout(() => finishShutdown(), KILL_WAIT_MS).unref()
    }, options.shutdownTimeoutMs)
    shutdownDeadline = deadline
    checkShutdownDone()
  }

  let shutdownDeadline: NodeJS.Timeout | undefined

  const checkShutdownDone = (): void => {
    if (slots.size === 0) finishShutdown()
  }

  const finishShutdown = (): void => {
    if (onShutdownDone === undefined) return
    const onDone = onShutdownDone
    onShutdownDone = undefined
    if (shutdownDeadline !== undefined) clearTimeout(shutdownDeadline)
    reaper.close()
    onDone()
  }

  // --- helpers ---------------------------------------------------------------

  /**
   * A worker runs its jobs in order: the first one it holds is running, or
   * about to, and is never sent again (a crash fails it, no REVOKE asks for
   * it back), unless a REVOKE was sent while it waited behind another. Its
   * inputs are dropped: a stream keeps chunks in flight long enough for V8 to
   * promote them, and every array that is not kept is one less to promote.
   */
  const releaseInputs = (job: Job): void => {
    if (!job.revoking) job.inputs = NO_INPUTS
  }

  /** Takes the job at `i` out of its worker's jobs; the one that becomes first is running now. */
  const removeInflightAt = (slot: Slot, i: number): Job => {
    const inflight = slot.inflight
    const job = inflight[i]!
    if (i === 0) inflight.shift()
    else inflight.splice(i, 1)
    slot.inflightInputs -= job.count
    if (i === 0 && inflight.length > 0) releaseInputs(inflight[0]!)
    return job
  }

  const removeInflight = (slot: Slot, job: Job): void => {
    const i = slot.inflight.indexOf(job)
    if (i !== -1) removeInflightAt(slot, i)
  }

  const removeInflightById = (slot: Slot, id: number): Job | undefined => {
    const inflight = slot.inflight
    for (let i = 0; i < inflight.length; i++) {
      if (inflight[i]!.id === id) return removeInflightAt(slot, i)
    }
    return undefined
  }

  const stats = (): PoolStats => ({
    workers: slots.size,
    busy: busyWorkers(),
    queued: queuedInputs + heldInputs(),
    completed,
    failed,
    crashed,
    restarted
  })

  const record: Engine["record"] = (task, c, f, i) => {
    completed += c
    failed += f
    metrics.tasks(Metrics.tasksCompleted, task, c)
    metrics.tasks(Metrics.tasksFailed, task, f)
    metrics.tasks(Metrics.tasksInterrupted, task, i)
  }

  if (options.minWorkers > 0) scheduleDispatch()

  return { submit, interrupt, record, stats, shutdown }
}

/** The error of a job whose task's module could not be imported. */
export const importFailed = (task: Task.Any, defect: SerializedDefect, pid: number): WorkerStartError => {
  const cause = deserializeDefect(defect, pid, task.name)
  return new WorkerStartError({
    message: `The module of task "${task.name}" could not be imported (${task.module}): ${
      cause instanceof Error ? cause.message : String(cause)
    }`,
    task: task.name,
    pid,
    cause
  })
}

/** Whether an answer has as many outcomes as its job can have: one per input, or fewer for a chunk that stopped early. */
const fitsJob = (answer: P.Done | P.Outcomes | P.JobFailed, job: Job): boolean => {
  switch (answer[0]) {
    case P.DONE:
      return answer[2].length === job.count
    case P.OUTCOMES:
      return answer[2].length <= job.count
    case P.JOB_FAILED:
      return true
  }
}

/** A short rendering of something a worker sent, for a log line. */
const preview = (u: unknown): string => {
  let text: string
  try {
    text = JSON.stringify(u) ?? String(u)
  } catch {
    text = Object.prototype.toString.call(u)
  }
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text
}
const PREVIEW_CHARS = 120

const killedFromOutside = (signal: NodeJS.Signals | null): boolean => signal === "SIGKILL" || signal === "SIGTERM"

const backoffMs = (failures: number): number =>
  Math.min(RESTART_BACKOFF_MAX_MS, RESTART_BACKOFF_INITIAL_MS * 2 ** Math.max(0, failures - 1))

const withTask = (error: WorkerStartError, task: string): WorkerStartError => {
  if (error.task === task) return error
  const { message, pid, exitCode, signal, stderr, cause } = error
  return new WorkerStartError({
    message,
    task,
    ...(pid !== undefined ? { pid } : {}),
    ...(exitCode !== undefined ? { exitCode } : {}),
    ...(signal !== undefined ? { signal } : {}),
    ...(stderr !== undefined ? { stderr } : {}),
    ...(cause !== undefined ? { cause } : {})
  })
}
