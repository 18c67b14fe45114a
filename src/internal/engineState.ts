/**
 * The engine's state: one explicit record, owned by the coordinator
 * (`engine.ts`) and changed only by the engine's modules, each through the
 * transitions of the part it concerns (`Jobs`, `Slots`, `StartHealth`,
 * `Outcomes`). Derived figures (the gauges, `stats`) are computed from it,
 * never stored beside it.
 *
 * @internal
 */
import type { PoolStats } from "../ProcessPool.ts"
import * as Admission from "./admission.ts"
import type { Serialization } from "./channel.ts"
import type { Clock, Timer } from "./clock.ts"
import type { Wire } from "./codec.ts"
import * as Delivery from "./delivery.ts"
import * as JobIds from "./jobIds.ts"
import * as Jobs from "./jobs.ts"
import * as Metrics from "./metrics.ts"
import * as Outcomes from "./outcomes.ts"
import * as Replacements from "./replacements.ts"
import type * as Slots from "./slots.ts"
import * as StartHealth from "./startHealth.ts"
import type { WorkerKind } from "./workerKind.ts"

export interface EngineOptions {
  /** the kind of worker: a process of its own, or a thread of the parent's */
  readonly workerType: "process" | "thread"
  readonly maxWorkers: number
  readonly minWorkers: number
  readonly maxTasksPerWorker: number | undefined
  /** the most inputs waiting in the pool (see `admission.ts`); `Infinity` when unbounded */
  readonly maxQueue: number
  readonly interruptGraceMs: number
  readonly shutdownTimeoutMs: number
  readonly idleTimeoutMs: number | undefined
  /** `undefined`: the parent's, less its inspector flags (see `workerProcess.ts`) */
  readonly execArgv: ReadonlyArray<string> | undefined
  readonly env: Readonly<Record<string, string>>
  readonly serialization: Serialization
  /**
   * The form values take on the channel (`codec.ts`): `"bytes"` where it
   * carries bytes as they are (threads, `"advanced"` processes), else `"json"`.
   * A cluster's runner keeps `"json"`: its client encodes and decodes.
   */
  readonly wire: Wire
  /** bytes of RSS after a job above which a worker is replaced */
  readonly maxWorkerMemory: number | undefined
  /** the workers' stdout and stderr: inherited, or each line logged */
  readonly stdio: "inherit" | "log"
}

/** A log entry from a worker (made by `Effect.log` in a task, or a line of its output), or of the pool's own. */
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

export interface EngineState {
  readonly options: EngineOptions
  readonly hooks: Hooks
  readonly kind: WorkerKind
  /** every wait the engine arms, and what it reads of the time (`clock.ts`) */
  readonly clock: Clock
  readonly slots: Set<Slots.Slot>
  readonly queue: Jobs.Queue<Slots.Slot>
  /** jobs waiting for room in the queue under `maxQueue` (`admission.ts`) */
  readonly admission: Admission.Line<Jobs.Job<Slots.Slot>>
  /** a number per task reference (module and key), so that `Run`s carry a number */
  readonly refs: Map<string, number>
  /** the same numbers by task value: a job's lookup builds no string (see `engine.ts` refOf) */
  readonly refsByTask: WeakMap<object, number>
  /** the gauges' last recorded values: an update that changes nothing is skipped */
  readonly gauges: { queued: number; busy: number }
  readonly tally: Outcomes.Tally
  readonly health: StartHealth.StartHealth
  /** jobs ended, for their callers to hear of */
  readonly delivery: Delivery.Delivery
  readonly jobIds: JobIds.JobIds
  nextWorkerId: number
  /** the pool is shutting down or shut: it takes no work */
  closed: boolean
  dispatchScheduled: boolean
  /** crashed and restarted workers, and the replacements due (`replacements.ts`) */
  readonly replacements: Replacements.Replacements
  /** the pending start after a back-off */
  startTimer: Timer | undefined
  onShutdownDone: (() => void) | undefined
  shutdownDeadline: Timer | undefined
  /** asks the coordinator for a dispatch, in a microtask (set by `engine.ts`) */
  readonly wake: () => void
}

export const make = (
  options: EngineOptions,
  hooks: Hooks,
  kind: WorkerKind,
  settle: Outcomes.Settler<any, unknown>,
  wake: () => void,
  clock: Clock
): EngineState => {
  const tally = Outcomes.makeTally(hooks.metrics)
  return {
    options,
    hooks,
    kind,
    clock,
    slots: new Set(),
    queue: Jobs.makeQueue(),
    admission: Admission.make(options.maxQueue),
    refs: new Map(),
    refsByTask: new WeakMap(),
    gauges: { queued: -1, busy: -1 },
    tally,
    health: StartHealth.make(),
    delivery: Delivery.make(tally, settle, (error) =>
      hooks.onLog(undefined, {
        level: "Error",
        message: ["effect-process-pool: code resumed by the pool threw; the pool goes on", error],
        annotations: {}
      })
    ),
    jobIds: JobIds.make(),
    nextWorkerId: 0,
    closed: false,
    dispatchScheduled: false,
    replacements: Replacements.make(),
    startTimer: undefined,
    onShutdownDone: undefined,
    shutdownDeadline: undefined,
    wake
  }
}

/** Ends a job with `end`; nothing happens if it had ended already. Its caller hears of it in a microtask. */
export const finish = (state: EngineState, job: Jobs.Job<Slots.Slot>, end: Jobs.JobEnd): void => {
  Admission.leave(state.admission, job)
  if (!Jobs.end(state.queue, job)) return
  // a job that ends may make room for one that waits (the dispatch admits it)
  if (state.admission.waiting > 0) state.wake()
  refreshGauges(state)
  Delivery.push(state.delivery, job, end)
}

/** Inputs taken ahead by workers: every job of a worker but the one it may be running. */
const heldInputs = (state: EngineState): number => {
  let held = 0
  for (const slot of state.slots) if (slot.inflight.length > 1) held += slot.inflightInputs - slot.inflight[0]!.count
  return held
}

const busyWorkers = (state: EngineState): number => {
  let busy = 0
  for (const slot of state.slots) if (slot.inflight.length > 0) busy++
  return busy
}

/** Inputs waiting in the pool: queued, or held ahead by a worker (what `maxQueue` bounds). */
export const queuedInputs = (state: EngineState): number => state.queue.inputs + heldInputs(state)

/** The gauges follow the state: called wherever jobs move. */
export const refreshGauges = (state: EngineState): void => {
  const queued = queuedInputs(state)
  const busy = busyWorkers(state)
  if (queued !== state.gauges.queued) state.hooks.metrics.gauge(Metrics.queueDepth, (state.gauges.queued = queued))
  if (busy !== state.gauges.busy) state.hooks.metrics.gauge(Metrics.busyWorkers, (state.gauges.busy = busy))
}

export const stats = (state: EngineState): PoolStats => ({
  workers: state.slots.size,
  busy: busyWorkers(state),
  queued: queuedInputs(state),
  waiting: state.admission.waiting,
  completed: state.tally.completed,
  failed: state.tally.failed,
  crashed: state.replacements.crashed,
  restarted: state.replacements.restarted
})

/** Logs an entry of the pool's own, with the program's loggers. */
export const log = (state: EngineState, level: string, message: ReadonlyArray<unknown>, annotations = {}): void =>
  state.hooks.onLog(undefined, { level, message, annotations })
