/**
 * The pool's engine, its coordinator: one state record (`engineState.ts`),
 * the dispatch loop, the routing of what workers send, and shutdown. The
 * parts it coordinates each have a file of their own.
 *
 * Data flow of one job, by file (compare CPython's `concurrent/futures/process.py`):
 *
 *   caller fiber (ProcessPool.ts run; map.ts, orderedStream.ts, completionStream.ts via chunks.ts)
 *     │ submit: encoded inputs (codec.ts); under maxQueue, through the admission line (admitting.ts)
 *     ▼
 *   queue (jobs.ts) ──dispatch (policy.ts: which worker, how many ahead)──▶ worker slot (slots.ts)
 *     │ Define, Run, Credit, Interrupt, Revoke, Shutdown (protocol.ts), framed by channel.ts
 *     ▼
 *   worker handle (workerKind.ts; workerProcess.ts: a child process, fds 3 and 4)
 *     ▼
 *   worker (workerMain.ts → worker/runtime.ts: loading.ts, execution.ts, outbox.ts, telemetry.ts)
 *     │ Done | Outcomes | JobFailed, Elements, Log, Loaded, Revoked (protocol.ts)
 *     ▼
 *   route (here: every record validated) ──▶ job end (delivery.ts) ──▶ Exits, counted once (outcomes.ts)
 *     │ a stream job's elements go to its consumer as they come (streamJobs.ts, taskStream.ts)
 *     ▼
 *   caller fiber resumed. Interruption (interrupts.ts) travels the same way back;
 *   a worker's death (workers.ts) fails the job it ran and queues the held ones again.
 *
 * The engine is synchronous, callback-driven code: every event (a job, an
 * answer, a worker's death, a timer) updates the state and asks for one
 * dispatch in a microtask (`wake`), so that the jobs submitted in one burst
 * leave in one write per worker. The Effect API in `ProcessPool.ts` wraps it.
 *
 * Invariants:
 * - a job is in exactly one place (see `jobs.ts`);
 * - a worker's `inflight` is in send order and the worker runs in that order, so
 *   the first there is the only job that may be running (see `protocol.ts`);
 * - a worker that is starting is sent nothing: it takes nothing ahead;
 * - a job's `onEnd` is called at most once, and never for a job whose caller
 *   interrupted it (that caller is resumed through its stop callbacks instead).
 *
 * @internal
 */
import type { PoolStats } from "../ProcessPool.ts"
import type * as Task from "../Task.ts"
import * as Admitting from "./admitting.ts"
import { fitsJob, preview } from "./answers.ts"
import * as Clock from "./clock.ts"
import type { Wire } from "./codec.ts"
import * as State from "./engineState.ts"
import { finish } from "./engineState.ts"
import * as Errors from "./errors.ts"
import * as Interrupts from "./interrupts.ts"
import * as JobIds from "./jobIds.ts"
import * as Jobs from "./jobs.ts"
import * as Kinds from "./kinds.ts"
import * as Metrics from "./metrics.ts"
import * as Outcomes from "./outcomes.ts"
import * as Policy from "./policy.ts"
import * as P from "./protocol.ts"
import * as Replacements from "./replacements.ts"
import * as Slots from "./slots.ts"
import * as StartHealth from "./startHealth.ts"
import * as StreamJobs from "./streamJobs.ts"
import type { WorkerKind } from "./workerKind.ts"
import * as Workers from "./workers.ts"

export type { EngineOptions, Hooks, LogEntry } from "./engineState.ts"

/** How long the pool waits for the workers it killed (after `shutdownTimeout`) to be gone: SIGKILL cannot be ignored, so this bounds a kernel slow to reap. */
const KILL_WAIT_MS = 2_000

type Job = Jobs.Job<Slots.Slot>

/**
 * The job-level contract the operations (`service.ts`) use: one request in
 * (`Jobs.Request`), an opaque handle out, which only `interrupt` reads. A
 * local pool implements it here, a cluster's client in
 * `cluster/clientEngine.ts`. `T` is what a request says of its task (a whole
 * `Task` for a pool that decodes answers; a `TaskRef` for a cluster's runner,
 * which relays them); `R` what a job's caller is given when it ends (its
 * settled outcome, or the end as it came); `H` the engine's handle.
 */
export interface Engine<T extends Jobs.TaskRef = AnyTask, R = Outcomes.Settled<any, any>, H = unknown> {
  /**
   * Queues a job of encoded inputs; its `onEnd` is called once, in a
   * microtask, with its outcome (unless its caller interrupted it).
   */
  readonly submit: (request: Jobs.Request<T, R>) => H
  /**
   * Stops a job. `onStopped` is called once the job has really stopped: at
   * once for a queued one, on the worker's confirmation for a sent one, or
   * once its worker is dead when it did not confirm within `interruptGrace`.
   */
  readonly interrupt: (handle: H, onStopped: () => void) => void
  /**
   * A stream job's consumer lets its worker send `n` more elements (see
   * `streamJobs.ts`; a cluster client's in `cluster/clientStream.ts`);
   * nothing for a job that ended or is not a stream job. Absent from an
   * engine that cannot run stream jobs: `stream` fails there with `Unsupported`.
   */
  readonly credit?: ((handle: H, n: number) => void) | undefined
  /** The form values take on the channel to its workers: how callers encode payloads (`codec.ts`). */
  readonly wire: Wire
  /** `maxQueue` (`Infinity`: unbounded; see `admission.ts`): a chunk has at most this many inputs */
  readonly maxQueue: number
  /** The outcome counters, for inputs that never become a job (`Outcomes.refused`). */
  readonly tally: Outcomes.Tally
  readonly stats: () => PoolStats
  /** Refuses new work, stops all jobs, asks the workers to exit, kills stragglers. */
  readonly shutdown: (onDone: () => void) => void
}

/** An engine the operations (`service.ts`) run on: it decodes its jobs' answers through their tasks' Schemas. */
export type PoolEngine<H> = Engine<AnyTask, Outcomes.Settled<any, any>, H>

/** What a local pool's engine runs: a task, or a streaming task (its jobs are stream jobs). */
export type AnyTask = Task.Any | Task.AnyStream

/** The engine's handle on a job: the job itself (see `jobs.ts`). */
export type Handle<T extends Jobs.TaskRef = Jobs.TaskRef> = Jobs.Job<Slots.Slot, T>

/** A local pool's engine, with the settler that decodes its jobs' answers through their tasks' Schemas. */
export function make(
  options: State.EngineOptions,
  hooks: State.Hooks,
  kind?: WorkerKind,
  settle?: undefined,
  clock?: Clock.Clock
): Engine<AnyTask, Outcomes.Settled<any, any>, Handle<AnyTask>>
/** An engine whose jobs' ends are given to their callers by `settle` (a cluster's runner: `Outcomes.forward`). */
export function make<T extends Jobs.TaskRef, R>(
  options: State.EngineOptions,
  hooks: State.Hooks,
  kind: WorkerKind | undefined,
  settle: Outcomes.Settler<T, R>,
  clock?: Clock.Clock
): Engine<T, R, Handle<T>>
export function make(
  options: State.EngineOptions,
  hooks: State.Hooks,
  kind: WorkerKind = Kinds.forOptions(options),
  settle: Outcomes.Settler<any, unknown> = Outcomes.settler(options.wire),
  clock: Clock.Clock = Clock.system
): Engine<any, any, any> {
  const state: State.EngineState = State.make(
    options,
    hooks,
    kind,
    settle,
    () => {
      if (state.dispatchScheduled) return
      state.dispatchScheduled = true
      queueMicrotask(guardedDispatch)
    },
    clock
  )

  const refOf = (task: Jobs.TaskRef): number => {
    let ref = state.refsByTask.get(task)
    if (ref !== undefined) return ref
    const key = `${task.module}\u0000${task.key}`
    ref = state.refs.get(key) ?? state.refs.size
    state.refs.set(key, ref)
    state.refsByTask.set(task, ref)
    return ref
  }

  const submit = (request: Jobs.Request<Jobs.TaskRef, unknown>): Job => {
    const now = clock.now()
    const task = request.task
    const job: Job = Jobs.make(JobIds.next(state.jobIds), refOf(task), request, now)
    // work refused by a closed pool never ran, and is not counted
    if (state.closed) {
      Jobs.enqueue(state.queue, job)
      finish(state, job, [Jobs.ERRORED, Errors.poolClosed(task)])
      return job
    }
    hooks.metrics.tasks(Metrics.tasksSubmitted, task.name, job.count)
    Admitting.submitted(state, job, now)
    return job
  }

  // --- dispatch ---------------------------------------------------------------

  /**
   * Dispatch runs in a microtask of its own: an exception there would end the parent. Nothing in it
   * is expected to throw (user code runs elsewhere, guarded); if something does, it is logged and
   * the next event dispatches again.
   */
  const guardedDispatch = Metrics.holding(hooks.metrics, (): void => {
    try {
      dispatch()
    } catch (error) {
      state.dispatchScheduled = false
      State.log(state, "Error", ["effect-process-pool: the pool's dispatch failed; it goes on", error])
    }
  })

  const dispatch = (): void => {
    state.dispatchScheduled = false
    if (state.closed) return flushAll()
    // hand queued jobs to ready workers, least loaded first; those of one dispatch leave at one time
    const max = options.maxTasksPerWorker
    let now = -1
    while (Jobs.hasQueued(state.queue)) {
      const best = Policy.leastLoaded(state.slots, max)
      if (best === undefined) break
      const [slot, room] = best
      if (now === -1) now = clock.now()
      for (let i = 0; i < room; i++) {
        // fill the least loaded worker up to its room, but keep loads even
        if (!send(slot, now)) break
        if (i + 1 < room && !Policy.isLeastLoaded(slot, state.slots, max)) break
      }
    }
    // jobs that started, or ended, made room: those admitted now leave with the next dispatch
    Admitting.admitWaiting(state)
    if (!Jobs.hasQueued(state.queue)) Interrupts.stealForIdle(state)
    flushAll()
    Workers.startWanted(state, route)
    Workers.armIdleTimers(state)
    State.refreshGauges(state)
  }

  /** Sends the oldest queued job to `slot` at `now`; false if none is queued. */
  const send = (slot: Slots.Slot, now: number): boolean => {
    const job = Jobs.sendNext(state.queue, slot, now, Slots.sendJob)
    if (job === undefined) return false
    Slots.clearIdle(slot)
    hooks.metrics.timing(Metrics.queueWait, job.task.name, job.sentAt - job.submittedAt)
    if (options.maxTasksPerWorker !== undefined && slot.jobsSent >= options.maxTasksPerWorker && !slot.finishing) {
      Workers.sentLast(state, slot)
    }
    return true
  }

  const flushAll = (): void => {
    for (const slot of state.slots) {
      Slots.flush(slot, (id, error) => {
        // one payload the framing cannot carry: that job fails, the batch goes on
        const i = Jobs.indexOf(slot, id)
        if (i !== -1) {
          const job = slot.inflight[i]!
          finish(state, job, [Jobs.ERRORED, Errors.unserializable(job.task, error)])
        }
      })
    }
  }

  // --- what workers send --------------------------------------------------------

  /**
   * What arrived on a worker's channel that is not a record of the protocol, or not one that fits
   * the parent's state: dropped, counted, and logged at Debug once per worker (a task that writes to
   * the channel by hand would otherwise fill the log).
   */
  const dropped = (slot: Slots.Slot, what: string): void => {
    hooks.metrics.workers(Metrics.messagesDropped)
    if (!Slots.dropped(slot)) return
    State.log(
      state,
      "Debug",
      [`effect-process-pool: dropped what ${slot.name} wrote to its channel: ${what}`],
      slot.annotations
    )
  }

  const message = Metrics.holding(hooks.metrics, (slot: Slots.Slot, frame: unknown): void => {
    if (!Array.isArray(frame)) return dropped(slot, `a frame that is not a batch: ${preview(frame)}`)
    let now = -1 // the answers of one frame arrived together: one clock read (a read a job was 2% of the CPU)
    for (const record of frame) {
      if (!P.isFromWorker(record)) {
        dropped(slot, `a record that is not the protocol's: ${preview(record)}`)
        continue
      }
      switch (record[0]) {
        case P.READY:
          if (Slots.ready(slot)) StartHealth.started(state.health)
          break
        case P.LOADED:
          Slots.loaded(slot, record[1])
          break
        case P.OVER_MEMORY:
          // recycled like maxTasksPerWorker: it finishes what it holds, releases its layers, exits
          Replacements.retiredEarly(state.replacements)
          hooks.metrics.workers(Metrics.workerRecycles)
          Workers.retire(state, slot)
          break
        case P.REVOKED:
          Interrupts.revoked(state, slot, record[1])
          break
        case P.ELEMENTS:
          StreamJobs.elements(
            slot,
            record,
            (reason) => Workers.lose(state, slot, reason),
            (misfit) => dropped(slot, `${misfit}: ${preview(record)}`)
          )
          break
        case P.LOG: {
          const i = Jobs.indexOf(slot, record[1])
          const job = i === -1 ? undefined : slot.inflight[i]!
          const annotations = {
            ...record[4],
            ...slot.annotations,
            ...(job ? { task: job.task.name } : {})
          }
          hooks.onLog(job?.caller?.context, { level: record[2], message: record[3], annotations })
          break
        }
        default:
          if (now === -1) now = clock.now()
          answer(slot, record, now)
      }
    }
    state.wake()
  })

  const answer = (slot: Slots.Slot, answer: P.Done | P.Outcomes | P.JobFailed, now: number): void => {
    const i = Jobs.indexOf(slot, answer[1])
    // a held job the parent already gave up on (see Interrupts.graceExpired)
    if (i === -1) return
    const job = slot.inflight[i]!
    if (!fitsJob(answer, job)) return dropped(slot, `an answer that does not fit its job: ${preview(answer)}`)
    // a stream lasts as long as its consumer wants: not a pace to plan the worker's next jobs by
    const sample = StreamJobs.isStream(job)
      ? now - job.sentAt
      : Slots.answered(slot, job.sentAt, now, Policy.serviceTime)
    hooks.metrics.timing(Metrics.runTime, job.task.name, sample)
    if (answer[0] === P.JOB_FAILED && answer[2][0] === P.IMPORT_FAILED) {
      Workers.importFailed(state, slot, job, answer[2][1])
    } else {
      StartHealth.moduleLoads(state.health, job.task.module)
    }
    finish(state, job, [Jobs.ANSWERED, answer, slot.name, sample])
    if (slot.finishing && slot.inflight.length === 0) Workers.retire(state, slot)
  }

  const route: Workers.Route = {
    message,
    dropped,
    gone: () => (state.closed ? checkShutdownDone() : state.wake())
  }

  // --- shutdown -----------------------------------------------------------------

  const shutdown = (onDone: () => void): void => {
    if (state.closed) return onDone()
    state.closed = true
    state.onShutdownDone = onDone
    state.startTimer?.cancel()
    Admitting.closeLine(state)
    Jobs.forEachQueued(state.queue, (job) => finish(state, job, [Jobs.CANCELLED]))
    for (const slot of state.slots) {
      Slots.clearIdle(slot)
      for (const job of [...slot.inflight]) {
        if (job.stopping === undefined) {
          // counted when it ends (as cancelled by its callers): settled here without counting again
          Interrupts.interrupt(state, job, () =>
            job.onEnd(settle(Outcomes.uncounted(), job, [Jobs.CANCELLED]), job.target)
          )
        }
      }
      if (slot.state === Slots.STARTING) Slots.kill(slot)
      else Workers.retire(state, slot)
    }
    flushAll()
    state.shutdownDeadline = clock.after(options.shutdownTimeoutMs, () => {
      for (const slot of state.slots) Slots.kill(slot)
      clock.after(KILL_WAIT_MS, finishShutdown, true)
    })
    checkShutdownDone()
  }

  const checkShutdownDone = (): void => {
    if (state.slots.size === 0) finishShutdown()
  }

  const finishShutdown = (): void => {
    const onDone = state.onShutdownDone
    if (onDone === undefined) return
    state.onShutdownDone = undefined
    state.shutdownDeadline?.cancel()
    kind.close()
    onDone()
  }

  if (options.minWorkers > 0) state.wake()

  return {
    wire: options.wire,
    maxQueue: options.maxQueue,
    submit,
    interrupt: (job, onStopped) => Interrupts.interrupt(state, job, onStopped),
    credit: (job, n) => {
      if (StreamJobs.grant(job, n, (credit) => Slots.credit(job.worker!, credit))) state.wake()
    },
    tally: state.tally,
    stats: () => State.stats(state),
    shutdown
  }
}
