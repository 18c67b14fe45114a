/**
 * The cluster client's engine: the local pool's job-level `Engine` interface
 * (`engine.ts`) over runners instead of workers. A job is a chunk; it waits
 * in the client's queue until a runner has credit (see `placement.ts`), goes
 * to that runner's route as a `Run` RPC, and ends with the wire record the
 * runner's worker answered. `ProcessPool.makeService` builds every operation
 * over this engine, so `map`'s order and earliest failure, `mapStream`'s
 * laziness and `bufferSize`, `asCompleted`, `"auto"` chunks and `stream` are
 * the local pool's own code (a stream job goes as a `RunStream`, with credit:
 * `clientStream.ts`).
 *
 *   caller ─submit─▶ queue ─dispatch─▶ runner (credit) ──Run RPC──▶ runner's local pool ─▶ worker
 *     ▲                                                                        │
 *     └──────── onEnd ◀── reply (Answered | Errored | Interrupted) ◀───────────┘
 *
 * Delivery is at-least-once. A chunk whose runner is lost (marked down by the membership loop, or whose
 * `Run` failed in transport, or that the runner interrupted itself while shutting down) is queued again
 * at the front and sent to another runner: its inputs may have run on the lost runner too.
 * Each such resend is counted (`process_pool_cluster_redelivered`, in inputs)
 * and logged; after `maxRedeliveries` of one chunk, or when no eligible
 * runner (alive, of the client's deployment, reachable) has been there for
 * `runnerTimeout` while a chunk waited, the chunk fails with
 * `RunnerUnavailable` — a caller never hangs on a cluster that is gone. A
 * chunk queued behind busy runners that answer waits, as it does locally.
 *
 * Invariants (as `engine.ts`): a job is in exactly one place — the queue, one runner's in-flight set, or
 * ended; `onEnd` is called at most once, in a microtask, and never for a job its caller interrupted (the
 * caller's stop callbacks resume it, once the runner has confirmed the stop).
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Metric from "effect/Metric"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import * as Tracer from "effect/Tracer"
import type { PoolStats } from "../../ProcessPool.ts"
import { PoolClosed, TaskNotFound } from "../../ProcessPoolError.ts"
import * as Admission from "../admission.ts"
import * as Delivery from "../delivery.ts"
import type * as Engine from "../engine.ts"
import type { Hooks } from "../engineState.ts"
import * as Jobs from "../jobs.ts"
import * as Metrics from "../metrics.ts"
import * as Outcomes from "../outcomes.ts"
import type * as P from "../protocol.ts"
import * as ClientJobs from "./clientJobs.ts"
import { type ClientConfig, type ClusterJob, ENDED, QUEUED, SENT, type Transport, WAITING } from "./clientJobs.ts"
import * as ClientStream from "./clientStream.ts"
import { within } from "./deadline.ts"
import * as Liveness from "./liveness.ts"
import * as Membership from "./membership.ts"
import * as Placement from "./placement.ts"
import type { RunReply } from "./protocol.ts"
import { toModuleRef } from "./taskRef.ts"

export type { ClientConfig, Transport } from "./clientJobs.ts"
export { redelivered } from "./clientJobs.ts"

export const runnersLive = Metric.gauge("process_pool_cluster_runners", {
  description: "runners of the client's deployment that answer"
})

/**
 * `"auto"` chunks aim at `AutoChunk.TARGET_CHUNK_MS` (10 ms) of work, sized
 * from the service times the engine reports. Over the cluster a chunk costs
 * far more than over a pipe: ~3 ms of CPU on the client and the runner
 * together (against ~0.1 ms locally), and a worker idles between two chunks
 * for a hop through its runner's event loop, which competes for the cores
 * with the workers. So this engine reports a chunk's time divided by this
 * factor, and `"auto"` chunks aim at ~16 × 10 = 160 ms of work; the tail rule
 * still spreads the last inputs over every worker. Measured with 200 tasks of
 * 20 ms on 2 runners × 1 worker (wall time, a local pool of 2: 2,055 ms):
 * factor 1: 2,344 ms; 2: 2,264; 4: 2,165–2,179; 8: 2,127 (workers' idle
 * gaps 245–326, 210–234, 111–145, 61–86 ms), with a target of 20 ms: the
 * factor is 16 since the local target is 10 ms, for the same 160 ms.
 */
const CHUNK_TIME_SCALE = 16

export interface ClusterEngine extends Engine.PoolEngine<ClusterJob> {
  /** Workers of the live runners of the client's deployment (at least 1: a window of 0 would stall `map`). */
  readonly workers: () => number
}

export const make = Effect.fnUntraced(function* (
  config: ClientConfig,
  transport: Transport,
  hooks: Hooks
): Effect.fn.Return<ClusterEngine, never, Scope.Scope> {
  const context = yield* Effect.context<never>()
  const tally = Outcomes.makeTally(hooks.metrics)
  let dispatchScheduled = false
  /** chunks sent so far: the clock of `RunnerView.lastSent` */
  let sends = 0
  let onShutdownDone: (() => void) | undefined
  const state: ClientJobs.ClientState = {
    config,
    transport,
    hooks,
    fork: Effect.runForkWith(context),
    incarnation: `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
    queue: [],
    admission: Admission.make(config.maxQueue),
    tally,
    // the local engine's delivery: settled (and counted) once, callbacks guarded
    delivery: Delivery.make(tally, Outcomes.settle, (error) =>
      hooks.onLog(undefined, {
        level: "Error",
        message: ["effect-process-pool: code resumed by the pool threw; the pool goes on", error],
        annotations: {}
      })
    ),
    runners: () => membership.runners.values(),
    nextId: 0,
    closed: false,
    // no runner is known yet: a chunk waits for one at most `runnerTimeout`
    unreachableSince: performance.now(),
    timeoutTimer: undefined,
    wake: () => {
      if (dispatchScheduled) return
      dispatchScheduled = true
      queueMicrotask(dispatch)
    },
    afterEnd: () => checkShutdownDone()
  }
  const { queue } = state

  // --- the queue -------------------------------------------------------------

  const submit: ClusterEngine["submit"] = (request) => {
    const { caller, first, inputs, mode, onAdmitted, onEnd, stream, target, task } = request
    const id = state.nextId++
    const module = toModuleRef(task.module, config.root)
    const job: ClusterJob = {
      id,
      key: `${state.incarnation}:${id}`,
      task,
      module: Result.isSuccess(module) ? module.success : { _tag: "Root", path: "" },
      mode,
      inputs,
      count: inputs.length,
      first,
      onEnd,
      target,
      caller,
      onAdmitted,
      state: QUEUED,
      runner: undefined,
      fiber: undefined,
      queuedAt: performance.now(),
      redeliveries: 0,
      stopping: undefined,
      stream,
      bufferSize: stream?.granted ?? 0,
      creditWaiter: undefined
    }
    if (state.closed) {
      // work refused by a closed pool never ran, and is not counted
      ClientJobs.end(state, job, [Jobs.ERRORED, new PoolClosed({ task: task.name })])
      return job
    }
    hooks.metrics.tasks(Metrics.tasksSubmitted, task.name, inputs.length)
    if (Result.isFailure(module)) {
      ClientJobs.end(state, job, [
        Jobs.ERRORED,
        new TaskNotFound({
          task: task.name,
          module: task.module,
          message: `Task "${task.name}" cannot be sent to a runner: ${module.failure}`
        })
      ])
    } else {
      ClientJobs.submitted(state, job)
    }
    return job
  }

  // --- dispatch --------------------------------------------------------------

  const dispatch = (): void => {
    dispatchScheduled = false
    if (state.closed) return
    const now = Date.now()
    const reachable = ClientJobs.eligible(state)
    ClientJobs.observeReachable(state, reachable.length > 0)
    // a runner asked whether it is alive and silent so far gets nothing new until it answers or is lost
    const views = reachable.filter((view) => !Liveness.isSuspect(view, now))
    const candidates = views.map((view) => ({
      inflight: view.inflight.size,
      credit: view.info.workers * config.chunksPerWorker,
      lastSent: view.lastSent
    }))
    while (queue.length > 0) {
      const i = Placement.pick(candidates)
      if (i === undefined) break
      const job = queue.shift()!
      if (job.state !== QUEUED) continue
      send(job, views[i]!)
      candidates[i] = { ...candidates[i]!, inflight: candidates[i]!.inflight + 1, lastSent: views[i]!.lastSent }
    }
    ClientJobs.admitWaiting(state) // chunks sent made room: those admitted now leave with the next dispatch
    ClientJobs.armTimeout(state)
  }

  const send = (job: ClusterJob, view: Membership.RunnerView): void => {
    job.state = SENT
    job.runner = view
    view.inflight.add(job)
    view.lastSent = ++sends
    // a stream job is a `RunStream` (`clientStream.ts`), answered as a chunk is, at its end
    const request =
      job.stream !== undefined
        ? ClientStream.run(state, job, view.route!)
        : transport.run(view.route!, ClientJobs.runPayload(state, job))
    // the cluster's own spans for the request join the caller's trace
    const span = job.caller?.wire?.[0]
    const fiber = state.fork(
      span === null || span === undefined
        ? request
        : Effect.withParentSpan(request, Tracer.externalSpan({ traceId: span[0], spanId: span[1], sampled: span[2] }))
    )
    job.fiber = fiber
    fiber.addObserver((exit) => onRunExit(job, view, fiber, exit))
  }

  const onRunExit = (
    job: ClusterJob,
    view: Membership.RunnerView,
    fiber: Fiber.Fiber<RunReply, unknown>,
    exit: Exit.Exit<RunReply, unknown>
  ): void => {
    if (job.fiber !== fiber || job.state !== SENT) return // an old send of a redelivered or ended job
    if (Exit.isSuccess(exit)) {
      const reply = exit.value
      for (const entry of reply.logs) hooks.onLog(job.caller?.context, entry)
      if (job.stopping !== undefined) return stopped(job)
      switch (reply._tag) {
        case "Answered":
          view.lastSeen = Date.now()
          return ClientJobs.end(state, job, [
            Jobs.ANSWERED,
            reply.answer as P.Done | P.Outcomes | P.JobFailed,
            reply.worker,
            reply.serviceMs / CHUNK_TIME_SCALE
          ])
        case "Errored":
          if (reply.reason._tag === "DeploymentMismatch") {
            // a route that reached a runner of another deployment: it gets no more work
            ;(view as { mismatch: boolean }).mismatch = true
            return ClientJobs.requeueFront(state, job)
          }
          return ClientJobs.end(state, job, [Jobs.ERRORED, reply.reason])
        case "Interrupted":
          return ClientJobs.redeliver(
            state,
            job,
            view,
            "the runner interrupted the chunk (it is shutting down, or lost the shard)"
          )
      }
    }
    if (job.stopping !== undefined) return stopped(job)
    ClientJobs.redeliver(state, job, view, `the request failed: ${Cause.pretty(exit.cause).split("\n")[0]}`)
  }

  // --- interruption ----------------------------------------------------------

  const interrupt: ClusterEngine["interrupt"] = (job, onStopped) => {
    if (job.state === ENDED) return queueMicrotask(onStopped)
    if (job.stopping !== undefined) {
      job.stopping.push(onStopped)
      return
    }
    job.stopping = [onStopped]
    if (job.state === QUEUED || job.state === WAITING) {
      const i = queue.indexOf(job) // -1 for one waiting in the line
      if (i !== -1) queue.splice(i, 1)
      return ClientJobs.end(state, job, [Jobs.CANCELLED])
    }
    const view = job.runner!
    if (view.down || view.route === undefined) return stopped(job)
    // Stop answers once the chunk has stopped in its worker; bounded, since the
    // runner may be gone. The Run RPC is dropped either way.
    state.fork(
      within(transport.stop(view.route, job.key), config.stopTimeoutMs).pipe(
        Effect.ensuring(Effect.sync(() => stopped(job)))
      )
    )
  }

  const stopped = (job: ClusterJob): void => {
    if (job.state === ENDED) return
    job.fiber?.interruptUnsafe()
    ClientJobs.end(state, job, [Jobs.CANCELLED])
  }

  // --- membership ------------------------------------------------------------

  let ids: ReadonlyMap<number, string> | undefined
  const membership = Membership.make({
    deployment: config.deployment,
    pingIntervalMs: config.pingIntervalMs,
    pingTimeoutMs: config.pingTimeoutMs,
    busy: () => {
      if (queue.length > 0) return true
      for (const view of membership.runners.values()) if (view.inflight.size > 0) return true
      return false
    },
    hello: transport.hello,
    shardOf: transport.shardOf,
    idsByShard: (shardsPerGroup) => (ids ??= Placement.idsByShard(shardsPerGroup, transport.shardOf)),
    routeFor: (shards, current, ids) => Placement.routeFor(shards, ids, current, transport.shardOf),
    onDown: (view, why) => {
      ClientJobs.log(state, "Warn", "a runner is lost; its chunks go to other runners", {
        runner: view.info.address,
        why,
        chunks: view.inflight.size
      })
      // newest first: each goes to the front of the queue, so they leave again in their order
      for (const job of [...view.inflight].reverse()) ClientJobs.redeliver(state, job, view, why)
    },
    onMismatch: (view) =>
      ClientJobs.log(state, "Warn", "a runner of another deployment gets no work", {
        runner: view.info.address,
        deployment: view.info.deployment,
        expected: config.deployment
      }),
    onChange: () => {
      runnersLive.updateUnsafe(ClientJobs.eligible(state).length, context)
      state.wake()
    }
  })

  yield* membership.run.pipe(Effect.interruptible, Effect.forkScoped)
  // the client is ready once it has looked for runners (at most pingTimeout): the operations
  // size their windows and "auto" chunks from the workers they find, once, when they start; a
  // client that started knowing none gave a mapStream a window of 2 chunks for its whole life
  yield* Effect.timeoutOption(membership.discovered, config.pingTimeoutMs)

  // --- shutdown and stats ----------------------------------------------------

  const checkShutdownDone = (): void => {
    if (onShutdownDone === undefined) return
    for (const view of membership.runners.values()) if (view.inflight.size > 0) return
    const done = onShutdownDone
    onShutdownDone = undefined
    done()
  }

  const shutdown: ClusterEngine["shutdown"] = (onDone) => {
    if (state.closed) return onDone()
    state.closed = true
    onShutdownDone = onDone
    if (state.timeoutTimer !== undefined) clearTimeout(state.timeoutTimer)
    ClientJobs.closeLine(state)
    for (const job of queue.splice(0)) ClientJobs.end(state, job, [Jobs.CANCELLED])
    for (const view of membership.runners.values()) {
      for (const job of [...view.inflight]) {
        if (job.stopping === undefined) {
          // counted when it ends (as cancelled by its callers): settled here without counting again
          interrupt(job, () => job.onEnd(Outcomes.settle(Outcomes.uncounted(), job, [Jobs.CANCELLED]), job.target))
        }
      }
    }
    checkShutdownDone()
  }

  const stats = (): PoolStats => {
    let workers = 0
    let busy = 0
    let queued = 0
    let crashed = 0
    let restarted = 0
    for (const view of membership.runners.values()) {
      if (view.down) continue
      const s = view.info.stats
      workers += s.workers
      busy += s.busy
      queued += s.queued
      crashed += s.crashed
      restarted += s.restarted
    }
    for (const job of queue) queued += job.count
    const waiting = state.admission.waiting
    return { workers, busy, queued, waiting, completed: tally.completed, failed: tally.failed, crashed, restarted }
  }

  const workers = (): number => {
    let n = 0
    for (const view of ClientJobs.eligible(state)) n += view.info.workers
    return Math.max(1, n)
  }

  // values cross the network as the JSON form of their Schemas
  const credit = ClientStream.grant
  return { wire: "json", maxQueue: config.maxQueue, submit, interrupt, credit, tally, stats, shutdown, workers }
})
