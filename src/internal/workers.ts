/**
 * The pool's workers over their lives: starting as many as are wanted (after
 * a back-off when starts fail), stopping idle ones, and what a worker's end
 * means for the jobs it held, for the start health of the pool and of the
 * task's module, and for the counts (`crashed`, `restarted`).
 *
 * @internal
 */
import type { WorkerStartError } from "../ProcessPoolError.ts"
import type * as Codec from "./codec.ts"
import type { EngineState } from "./engineState.ts"
import * as State from "./engineState.ts"
import { finish } from "./engineState.ts"
import * as Errors from "./errors.ts"
import * as Jobs from "./jobs.ts"
import * as Metrics from "./metrics.ts"
import * as Policy from "./policy.ts"
import * as Replacements from "./replacements.ts"
import * as Slots from "./slots.ts"
import * as StartHealth from "./startHealth.ts"
import type { WorkerEnd } from "./workerKind.ts"

/**
 * A worker that has not said it is ready this long after its spawn is killed
 * and counted as a start failure: a start never waits for ever. Starting is
 * mostly importing `effect` (a few hundred ms, several seconds on a loaded
 * machine), so this is generous.
 */
export const START_TIMEOUT_MS = 30_000

/** Where a worker's events go, in the coordinator. */
export interface Route {
  readonly message: (slot: Slots.Slot, frame: unknown) => void
  readonly dropped: (slot: Slots.Slot, what: string) => void
  /** after a worker is gone and its jobs are settled */
  readonly gone: () => void
}

const liveWorkers = (state: EngineState): number => {
  let n = 0
  for (const slot of state.slots) if (Slots.isLive(slot)) n++
  return n
}

/** Whether a job for `module` is refused at once (no worker can start, or its module fails to load). */
export const refusal = (state: EngineState, module: string, now: number) =>
  StartHealth.refusal(state.health, module, now, liveWorkers(state))

/** Starts the workers wanted now, or arranges a dispatch when the back-off allows a start. */
export const startWanted = (state: EngineState, route: Route): void => {
  if (state.closed) return
  let live = 0
  let starting = 0
  // jobs held behind a running one count as waiting too: a new worker will
  // take them back (work stealing) instead of letting them wait
  let waiting = 0
  for (const slot of state.slots) {
    if (slot.state === Slots.STARTING) starting++
    if (Slots.isLive(slot)) live++
    if (slot.inflight.length > 1) waiting += slot.inflight.length - 1
  }
  const { maxWorkers, minWorkers } = state.options
  waiting += Jobs.countQueued(state.queue, maxWorkers + starting - waiting)
  const wanted = Policy.workersWanted({
    live,
    starting,
    waiting,
    recycling: state.replacements.recycling,
    minWorkers,
    maxWorkers
  })
  if (wanted <= 0) return
  const now = state.clock.now()
  if (now < state.health.nextStartAt) {
    state.startTimer ??= state.clock.after(state.health.nextStartAt - now, () => {
      state.startTimer = undefined
      state.wake()
    })
    return
  }
  const n = StartHealth.oneAtATime(state.health) ? Math.min(wanted, 1 - starting) : wanted
  for (let i = 0; i < n; i++) start(state, route)
}

const start = (state: EngineState, route: Route): void => {
  const id = state.nextWorkerId++
  // the handlers reach the slot once `spawn` has answered: a kind never calls them from inside it
  let slot: Slots.Slot | undefined
  const handle = state.kind.spawn(id, {
    onFrame: (frame) => route.message(slot!, frame),
    onForeign: (what) => route.dropped(slot!, what),
    onBroken: (reason) => lose(state, slot!, reason),
    onEnd: (end) => gone(state, slot!, end, route),
    onOutput: (stream, line) =>
      state.hooks.onLog(undefined, {
        level: stream === "stdout" ? "Info" : "Warn",
        message: [line],
        annotations: { ...slot!.annotations, stream }
      })
  })
  slot = Slots.make(id, handle, state.kind.name)
  Slots.armStartTimer(slot, state.clock, START_TIMEOUT_MS)
  state.slots.add(slot)
  state.hooks.metrics.workers(Metrics.workerStarts)
  Replacements.started(state.replacements)
}

/**
 * A worker's channel can no longer be used: a task closed or replaced the
 * pool's pipes, or wrote what cannot be read past. It is killed, and it
 * counts as a crash (what it ran fails with `WorkerCrashed` that says why).
 */
export const lose = (state: EngineState, slot: Slots.Slot, reason: string): void => {
  if (slot.lost !== undefined) return
  State.log(
    state,
    "Warn",
    [`effect-process-pool: ${slot.name} lost its channel (${reason}); it is killed and replaced`],
    slot.annotations
  )
  Slots.lose(slot, reason)
}

/** Asks a worker to finish what it holds and exit; one that does not exit in time is killed (see `Slots.retire`). */
export const retire = (state: EngineState, slot: Slots.Slot): void =>
  Slots.retire(slot, state.clock, state.options.shutdownTimeoutMs, () => {
    if (state.closed) return
    State.log(
      state,
      "Warn",
      [
        `effect-process-pool: ${slot.name} did not exit within ${state.options.shutdownTimeoutMs} ms of being asked to (a task may have replaced process.exit, or a layer's finalizer hangs); it is killed`
      ],
      slot.annotations
    )
  })

/** Arms the idle timers of idle workers above `minWorkers`. */
export const armIdleTimers = (state: EngineState): void => {
  const idleTimeoutMs = state.options.idleTimeoutMs
  if (idleTimeoutMs === undefined) return
  let live = liveWorkers(state)
  for (const slot of state.slots) {
    if (slot.state !== Slots.READY || slot.inflight.length > 0 || slot.idleTimer !== undefined) continue
    if (live <= state.options.minWorkers) break
    live--
    Slots.armIdle(slot, state.clock, idleTimeoutMs, () => {
      if (liveWorkers(state) <= state.options.minWorkers) return
      retire(state, slot)
      state.wake()
    })
  }
}

/**
 * The job was sent to a worker that is to be recycled after it: the worker
 * finishes it, and its replacement starts now.
 */
export const sentLast = (state: EngineState, slot: Slots.Slot): void => {
  Slots.sentLast(slot)
  Replacements.sentLast(state.replacements)
  state.hooks.metrics.workers(Metrics.workerRecycles)
}

/**
 * A module that throws on import poisons it in that worker (ES modules cache
 * the failure), so the worker is retired and a fresh one will try again; until
 * then, jobs for that module fail at once instead of each costing a worker.
 */
export const importFailed = (
  state: EngineState,
  slot: Slots.Slot,
  job: Jobs.Job<Slots.Slot>,
  defect: Codec.SerializedDefect
) => {
  moduleBroken(state, job.task.module, Errors.importFailed(job.task, defect, slot.name))
  Replacements.retiredEarly(state.replacements)
  retire(state, slot)
}

const moduleBroken = (state: EngineState, module: string, error: WorkerStartError): void => {
  StartHealth.moduleBroken(state.health, module, error, state.clock.now())
  Jobs.forEachQueued(state.queue, (queued) => {
    if (queued.task.module === module) finish(state, queued, [Jobs.ERRORED, Errors.withTask(error, queued.task.name)])
  })
}

const gone = (state: EngineState, slot: Slots.Slot, workerEnd: WorkerEnd, route: Route): void => {
  const before = Slots.gone(slot)
  const lost = slot.lost ?? workerEnd.lostChannel
  // a worker that lost its channel crashed, whoever killed it
  const expected = lost === undefined && (before === Slots.RETIRING || slot.killed || state.closed)
  state.slots.delete(slot)
  const end: Errors.ProcessEnd = {
    worker: slot.identity,
    exitCode: workerEnd.exitCode,
    signal: workerEnd.signal,
    detail: lost === undefined ? workerEnd.detail : `${workerEnd.detail}: it lost its channel: ${lost}`,
    stderr: workerEnd.stderr
  }
  const [running, ...held] = Jobs.abandon(slot)
  if (before === Slots.STARTING && !state.closed) {
    startFailed(state, slot, end, workerEnd)
  } else {
    Replacements.ended(state.replacements, {
      crashed: !expected,
      killedByPool: slot.killed && before !== Slots.RETIRING,
      finishing: slot.finishing,
      closed: state.closed
    })
    if (!expected) state.hooks.metrics.workers(Metrics.workerCrashes)
  }
  if (running !== undefined) {
    if (running.stopping !== undefined) {
      finish(state, running, [Jobs.CANCELLED])
    } else if (!slot.loaded.has(running.ref) && !expected && lost === undefined && !workerEnd.killedFromOutside) {
      // it died importing the task's module or building its layer: a start
      // failure of that module, like a throw on import
      const error = Errors.loadFailed(running.task, end)
      moduleBroken(state, running.task.module, error)
      finish(state, running, [Jobs.ERRORED, error])
    } else {
      finish(state, running, [Jobs.ERRORED, Errors.workerCrashed(running.task, end)])
    }
  }
  // the jobs it held had not started: they go back to the queue, except those
  // being interrupted, which end now
  const requeued: Array<Jobs.Job<Slots.Slot>> = []
  for (const job of held) {
    if (job.stopping !== undefined || state.closed) finish(state, job, [Jobs.CANCELLED])
    else requeued.push(job)
  }
  Jobs.requeue(state.queue, requeued, false)
  route.gone()
}

const startFailed = (state: EngineState, slot: Slots.Slot, end: Errors.ProcessEnd, workerEnd: WorkerEnd) => {
  const killed = workerEnd.killedFromOutside
  if (StartHealth.startFailed(state.health, killed, state.clock.now()) === "retry") return
  const spawnError = workerEnd.spawnError
  const error = Errors.startFailed(
    spawnError !== undefined
      ? { _tag: "spawn", error: spawnError }
      : slot.startTimedOut
        ? { _tag: "timeout", afterMs: START_TIMEOUT_MS, heldBy: state.kind.startHint?.() }
        : killed
          ? { _tag: "killed", times: StartHealth.MAX_KILLED_STARTS }
          : { _tag: "exited" },
    end
  )
  if (liveWorkers(state) > 0) return
  // nothing can serve the queue: fail it now rather than let it wait
  StartHealth.noneCanStart(state.health, error)
  Jobs.forEachQueued(state.queue, (job) => finish(state, job, [Jobs.ERRORED, Errors.withTask(error, job.task.name)]))
}
