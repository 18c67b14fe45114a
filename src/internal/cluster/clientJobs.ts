/**
 * The cluster client's jobs and its state: the record of one chunk sent to
 * runners, the client's queue, and the transitions that alone change a
 * job's state — its end, its return to the queue when its runner is lost
 * (at-least-once: counted and logged), its failure when no runner takes it.
 * `clientEngine.ts` owns the state and dispatches.
 *
 * A job is in exactly one place: the admission line (`WAITING`, for room in
 * the queue under the client's `maxQueue`: `../admission.ts`), the queue
 * (`QUEUED`), one runner's in-flight set (`SENT`), or ended (`ENDED`,
 * delivered once through `delivery.ts`).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as Metric from "effect/Metric"
import type * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import {
  DeploymentMismatch,
  PoolClosed,
  type ProcessPoolErrorReason,
  RunnerUnavailable
} from "../../ProcessPoolError.ts"
import type * as Task from "../../Task.ts"
import * as Admission from "../admission.ts"
import { WAITING } from "../admission.ts"
import * as Delivery from "../delivery.ts"
import type { Hooks } from "../engineState.ts"
import * as Jobs from "../jobs.ts"
import * as Metrics from "../metrics.ts"
import type * as Outcomes from "../outcomes.ts"
import * as P from "../protocol.ts"
import type { Sink } from "../streamJobs.ts"
import type * as Membership from "./membership.ts"
import type { ModuleRef, RunnerInfo, RunPayload, RunReply, RunStreamPayload, StreamItem } from "./protocol.ts"

export const redelivered = Metric.counter("process_pool_cluster_redelivered", {
  description: "inputs sent to another runner after theirs was lost (at-least-once: they may have run twice)",
  incremental: true
})

export interface ClientConfig {
  readonly deployment: string
  readonly root: string
  readonly chunksPerWorker: number
  readonly runnerTimeoutMs: number
  readonly pingIntervalMs: number
  readonly pingTimeoutMs: number
  readonly stopTimeoutMs: number
  readonly maxRedeliveries: number
  /** the most inputs in the client's queue (`Infinity`: unbounded); see `../admission.ts` */
  readonly maxQueue: number
}

/** The calls the engine makes to the cluster: the entity's client, and its shard function. */
export interface Transport {
  readonly hello: (entityId: string) => Effect.Effect<RunnerInfo, unknown>
  readonly run: (entityId: string, payload: RunPayload) => Effect.Effect<RunReply, unknown>
  /** a `RunStream` answer, as Effect's RPC client's queue of items (`clientStream.ts`) */
  readonly runStream: (
    entityId: string,
    payload: RunStreamPayload
  ) => Effect.Effect<Queue.Dequeue<StreamItem, unknown>, unknown, Scope.Scope>
  readonly stop: (entityId: string, job: string) => Effect.Effect<void, unknown>
  readonly shardOf: (entityId: string) => number
}

export const QUEUED = 0
export const SENT = 1
export const ENDED = 2
export { WAITING }

export interface ClusterJob {
  readonly id: number
  /** unique across clients and their restarts: what a runner knows the chunk by */
  readonly key: string
  readonly task: Task.Any | Task.AnyStream
  readonly module: ModuleRef
  readonly mode: P.Mode
  readonly inputs: ReadonlyArray<unknown>
  readonly count: number
  readonly first: number | undefined
  readonly onEnd: (settled: Outcomes.Settled<any, any>, target: any) => void
  /** see `Jobs.Request.target` */
  readonly target: unknown
  readonly caller: Jobs.Caller | undefined
  /** see `Jobs.Request.onAdmitted` */
  readonly onAdmitted: (() => void) | undefined
  state: typeof WAITING | typeof QUEUED | typeof SENT | typeof ENDED
  runner: Membership.RunnerView | undefined
  fiber: Fiber.Fiber<RunReply, unknown> | undefined
  /**
   * when it was submitted, or last went back to the queue: it fails after
   * `runnerTimeout` there (a wait for room in the line counts, so a chunk
   * admitted while no runner is reachable fails when its time is up)
   */
  queuedAt: number
  redeliveries: number
  stopping: Array<() => void> | undefined
  /** a stream job's consumer (see `clientStream.ts`) */
  readonly stream: Sink | undefined
  /** a stream job's buffer: the runner's local credit */
  readonly bufferSize: number
  /** a stream job's send waits for its consumer's credit */
  creditWaiter: (() => void) | undefined
}

/** The client's state: one record, owned by `clientEngine.ts`. */
export interface ClientState {
  readonly config: ClientConfig
  readonly transport: Transport
  readonly hooks: Hooks
  /** runs an Effect in the client's context */
  readonly fork: <A, E>(effect: Effect.Effect<A, E>) => Fiber.Fiber<A, E>
  readonly incarnation: string
  readonly queue: Array<ClusterJob>
  /** jobs waiting for room in `queue` under `maxQueue` */
  readonly admission: Admission.Line<ClusterJob>
  readonly tally: Outcomes.Tally
  readonly delivery: Delivery.Delivery
  readonly runners: () => Iterable<Membership.RunnerView>
  nextId: number
  closed: boolean
  /**
   * Since when (`performance.now()`) no eligible runner has been reachable,
   * or `undefined` while one is: what `runnerTimeout` measures, never how
   * long a chunk has waited behind busy runners.
   */
  unreachableSince: number | undefined
  timeoutTimer: NodeJS.Timeout | undefined
  /** asks for a dispatch, in a microtask */
  readonly wake: () => void
  /** the client shuts down and has no job in flight any more (set by `clientEngine.ts`) */
  readonly afterEnd: () => void
}

export const log = (
  state: ClientState,
  level: "Warn" | "Info" | "Debug",
  message: string,
  annotations: Record<string, unknown>
): void => {
  state.fork(
    Effect.logWithLevel(level)(message).pipe(
      Effect.annotateLogs({ module: "effect-process-pool/Cluster", ...annotations })
    )
  )
}

/** The `Run` request of a chunk. */
export const runPayload = (state: ClientState, job: ClusterJob): RunPayload => ({
  job: job.key,
  deployment: state.config.deployment,
  task: { module: job.module, key: job.task.key, name: job.task.name },
  mode: job.mode === P.MODE_ALL ? P.MODE_ALL : P.MODE_STOP_ON_FAILURE,
  inputs: job.inputs,
  ...(job.caller?.wire !== undefined ? { caller: job.caller.wire as RunPayload["caller"] } : {})
})

/** Ends a job; nothing happens if it had ended already. Its runner's credit is free again. */
export const end = (state: ClientState, job: ClusterJob, result: Jobs.JobEnd): void => {
  if (job.state === ENDED) return
  Admission.leave(state.admission, job)
  // a job that ends may make room for one that waits (the dispatch admits it)
  if (state.admission.waiting > 0) state.wake()
  job.state = ENDED
  if (job.runner?.inflight.delete(job)) state.wake()
  job.runner = undefined
  Delivery.push(state.delivery, job, result)
  if (state.closed) state.afterEnd()
}

/** Puts a job that has not run, or whose runner was lost, at the front of the queue. */
export const requeueFront = (state: ClientState, job: ClusterJob): void => {
  job.runner?.inflight.delete(job)
  job.state = QUEUED
  job.runner = undefined
  job.fiber = undefined
  job.queuedAt = performance.now()
  state.queue.unshift(job)
  state.wake()
}

// --- the admission line (`maxQueue`) ---------------------------------------------

/** Inputs in the client's queue: what its `maxQueue` bounds. */
const queuedInputs = (state: ClientState): number => {
  let n = 0
  for (const job of state.queue) if (job.state === QUEUED) n += job.count
  return n
}

/** A new job joins the queue if nobody waits before it and it fits, else the end of the line. */
export const submitted = (state: ClientState, job: ClusterJob): void => {
  const line = state.admission
  if (line.max === Number.POSITIVE_INFINITY || Admission.admitsNow(line, queuedInputs(state), job.count)) {
    admit(state, job)
  } else {
    Admission.join(line, job)
  }
}

const admit = (state: ClientState, job: ClusterJob): void => {
  job.state = QUEUED
  state.queue.push(job)
  if (state.admission.max !== Number.POSITIVE_INFINITY) {
    state.hooks.metrics.timing(Metrics.admissionWait, job.task.name, performance.now() - job.queuedAt)
  }
  if (job.onAdmitted !== undefined) Admission.notify(state.admission, job.onAdmitted, state.delivery.onThrow)
  state.wake()
}

/** Admits the jobs of the line that fit now (chunks sent or ended made room), oldest first. */
export const admitWaiting = (state: ClientState): void => {
  const line = state.admission
  if (line.waiting === 0) return
  for (let job = Admission.next(line, queuedInputs(state)); job !== undefined; ) {
    admit(state, job)
    job = Admission.next(line, queuedInputs(state))
  }
}

/** The client is closing: every job of the line fails with `PoolClosed` (it was never handed to a runner). */
export const closeLine = (state: ClientState): void => {
  for (const job of Admission.drain(state.admission)) {
    end(state, job, [Jobs.ERRORED, new PoolClosed({ task: job.task.name })])
  }
}

const unavailable = (job: ClusterJob, message: string, runner?: string): ProcessPoolErrorReason =>
  new RunnerUnavailable({ task: job.task.name, message, ...(runner !== undefined ? { runner } : {}) })

/**
 * What becomes of a job whose runner was lost (or that its runner gave
 * back): sent to another runner (`"again"`: at-least-once), or failed with
 * `RunnerUnavailable` — after `maxRedeliveries` losses of one job
 * (`"exhausted"`), or at once for a stream that has delivered elements
 * (`"streamed"`): sent again, it would start over and its consumer would see
 * them twice, so a stream is placed elsewhere only while none has come.
 * `losses` counts this one; `streamed` is the elements its consumer received.
 */
export const afterLoss = (
  losses: number,
  maxRedeliveries: number,
  streamed: number
): "again" | "exhausted" | "streamed" => (streamed > 0 ? "streamed" : losses > maxRedeliveries ? "exhausted" : "again")

/** Sends a chunk whose runner was lost to another one (counted and logged), or fails it (`afterLoss`). */
export const redeliver = (state: ClientState, job: ClusterJob, from: Membership.RunnerView, why: string): void => {
  if (job.state !== SENT || job.stopping !== undefined) return
  from.inflight.delete(job)
  job.fiber?.interruptUnsafe()
  const max = state.config.maxRedeliveries
  const streamed = job.stream?.received ?? 0
  switch (afterLoss(++job.redeliveries, max, streamed)) {
    case "streamed":
      return end(state, job, [
        Jobs.ERRORED,
        unavailable(
          job,
          `Task "${job.task.name}": its stream's runner ${from.info.address} was lost after ${streamed} elements (${why}); a stream is not sent again once elements have come, since they would come twice`,
          from.info.address
        )
      ])
    case "exhausted":
      return end(state, job, [
        Jobs.ERRORED,
        unavailable(
          job,
          `Task "${job.task.name}": a chunk of ${job.count} inputs was lost with ${job.redeliveries} runners (last ${from.info.address}: ${why}); not sent again (maxRedeliveries ${max})`,
          from.info.address
        )
      ])
  }
  state.fork(Metric.update(redelivered, job.count))
  log(state, "Warn", "a chunk is sent to another runner (at-least-once: its inputs may have run twice)", {
    task: job.task.name,
    inputs: job.count,
    runner: from.info.address,
    why,
    redelivery: job.redeliveries
  })
  requeueFront(state, job)
}

/** The runners that take work: answering, of the client's deployment, reachable. */
export const eligible = (state: ClientState): Array<Membership.RunnerView> => {
  const out: Array<Membership.RunnerView> = []
  for (const view of state.runners()) if (!view.down && !view.mismatch && view.route !== undefined) out.push(view)
  return out
}

/** Records whether an eligible runner is reachable now (the engine calls it on every dispatch, which every change of the runners wakes). */
export const observeReachable = (state: ClientState, reachable: boolean): void => {
  if (reachable) state.unreachableSince = undefined
  else state.unreachableSince ??= performance.now()
}

/**
 * When a queued chunk fails: once no eligible runner has been reachable for
 * `runnerTimeout` while it waited. A chunk queued behind busy, live runners
 * waits as long as they are busy, as locally (a caller who wants a deadline
 * uses `Effect.timeout`); a chunk queued while the cluster is unreachable
 * still gets the whole `runnerTimeout` from its own arrival.
 */
export const expiresAt = (queuedAt: number, unreachableSince: number, runnerTimeoutMs: number): number =>
  Math.max(queuedAt, unreachableSince) + runnerTimeoutMs

/** Arms the timer of the first queued chunk to expire, while no eligible runner is reachable. */
export const armTimeout = (state: ClientState): void => {
  const since = state.unreachableSince
  if (state.timeoutTimer !== undefined || state.queue.length === 0 || since === undefined) return
  const oldest = state.queue.reduce((min, job) => Math.min(min, job.queuedAt), Number.POSITIVE_INFINITY)
  state.timeoutTimer = setTimeout(
    () => {
      state.timeoutTimer = undefined
      expireQueued(state)
      armTimeout(state)
    },
    Math.max(0, expiresAt(oldest, since, state.config.runnerTimeoutMs) - performance.now())
  )
}

const expireQueued = (state: ClientState): void => {
  const { deployment, runnerTimeoutMs } = state.config
  observeReachable(state, eligible(state).length > 0)
  const since = state.unreachableSince
  if (since === undefined) return
  const now = performance.now()
  const mismatched = [...state.runners()].filter((view) => view.mismatch && !view.down)
  const queue = state.queue
  for (let i = 0; i < queue.length; i++) {
    const job = queue[i]!
    if (job.state !== QUEUED || now < expiresAt(job.queuedAt, since, runnerTimeoutMs)) continue
    queue.splice(i--, 1)
    const other = mismatched[0]
    end(
      state,
      job,
      other !== undefined
        ? [
            Jobs.ERRORED,
            new DeploymentMismatch({
              task: job.task.name,
              runner: other.info.address,
              expected: deployment,
              actual: other.info.deployment
            })
          ]
        : [
            Jobs.ERRORED,
            unavailable(
              job,
              `No runner of deployment "${deployment}" was reachable for ${runnerTimeoutMs} ms while task "${job.task.name}" waited (${describeRunners(state)})`
            )
          ]
    )
  }
}

const describeRunners = (state: ClientState): string => {
  const views = [...state.runners()]
  if (views.length === 0) return "no runner found"
  return views
    .map(
      (v) =>
        `${v.info.address}: ${v.down ? "lost" : v.mismatch ? `deployment "${v.info.deployment}"` : "no route reaches it"}`
    )
    .join(", ")
}
