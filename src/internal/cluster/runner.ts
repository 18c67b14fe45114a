/**
 * The runner's side: the chunk entity's handlers, backed by the runner's own
 * local pool engine. A chunk's encoded inputs go to the local engine as they
 * came and its answer goes back as the worker sent it, so the runner decodes
 * no value and imports no task module itself: its workers do. A streaming
 * task (`RunStream`) runs as a stream job of the local engine whose elements
 * are relayed as they come, still encoded (`runnerStream.ts`). Task code never
 * runs on the runner's event loop, which also serves its other entities and
 * the cluster's heartbeats.
 *
 * @internal
 */
import * as NodeCrypto from "node:crypto"
import * as Context from "effect/Context"
import { CurrentRunnerAddress } from "effect/cluster/Entity"
import * as ShardId from "effect/cluster/ShardId"
import { Sharding } from "effect/cluster/Sharding"
import { ShardingConfig } from "effect/cluster/ShardingConfig"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"
import { DeploymentMismatch, type ProcessPoolErrorReason, TaskNotFound } from "../../ProcessPoolError.ts"
import * as Engine from "../engine.ts"
import * as Jobs from "../jobs.ts"
import * as Kinds from "../kinds.ts"
import * as Metrics from "../metrics.ts"
import { withFrame } from "../origin.ts"
import * as Outcomes from "../outcomes.ts"
import * as P from "../protocol.ts"
import {
  ChunkEntity,
  type LogEntry,
  type RunPayload,
  type RunReply,
  type RunStreamPayload,
  type StreamItem
} from "./protocol.ts"
import * as RunnerStream from "./runnerStream.ts"
import { resolveModuleRef } from "./taskRef.ts"

/** The default shard group of an entity (`Entity.getShardGroup`), the only one a runner reports. */
const SHARD_GROUP = "default"

/**
 * How many `Stop`s for chunks the runner has not seen it remembers, so that a
 * `Run` arriving after its `Stop` (a stop sent while the run was still on its
 * way) never starts. Bounded: a stop older than this many is forgotten.
 */
const MAX_EARLY_STOPS = 4_096

/** A chunk on this runner, from its `Run` to its reply. */
interface RunState {
  readonly job: Engine.Handle
  readonly logs: Array<LogEntry>
  readonly resume: (reply: RunReply) => void
  /** callers of `Stop` waiting for it to have stopped */
  stopping: Array<() => void> | undefined
}

export interface RunnerConfig {
  readonly engine: Engine.EngineOptions
  readonly deployment: string
  readonly root: string
}

/**
 * The handlers' layer: builds the local engine in the layer's scope (it shuts
 * down, and its chunks end interrupted, when the layer closes) and registers
 * the entity with unbounded concurrency, since handlers are sequential per
 * entity id by default and one id carries many chunks at once.
 */
export const make = (config: RunnerConfig): Effect.Effect<Layer.Layer<never, never, Sharding>, never, Scope.Scope> =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const context = yield* Effect.context<never>()
    const incarnation = NodeCrypto.randomUUID()
    const running = new Map<string, RunState>()
    const earlyStops = new Set<string>()

    // answers are relayed as the worker sent them (the client decodes): counted at the wire level
    const engine = Engine.make(
      config.engine,
      {
        metrics: Metrics.recorder(context),
        onLog: (caller, entry) => {
          if (typeof caller === "object" && caller !== null && "logs" in caller) {
            ;(caller as { logs: Array<LogEntry> }).logs.push(entry as LogEntry)
            return
          }
          // an entry of no chunk (a daemon fiber in a worker, a worker's output): the runner's own log
          Effect.runForkWith(context)(
            Effect.logWithLevel(entry.level as LogLevel.Severity)(...entry.message).pipe(
              Effect.annotateLogs(entry.annotations)
            )
          )
        }
      },
      Kinds.forOptions(config.engine),
      Outcomes.forward
    )
    yield* Scope.addFinalizer(
      scope,
      Effect.callback<void>((resume) => engine.shutdown(() => resume(Effect.void)))
    )

    const reply = (end: Jobs.JobEnd, state: { readonly logs: Array<LogEntry> }, runner: string): RunReply => {
      switch (end[0]) {
        case Jobs.ANSWERED:
          return {
            _tag: "Answered",
            answer: markDefects(end[1], runner),
            worker: end[2],
            serviceMs: end[3],
            logs: state.logs
          }
        case Jobs.ERRORED:
          return { _tag: "Errored", reason: end[1], logs: state.logs }
        case Jobs.CANCELLED:
          return { _tag: "Interrupted", logs: state.logs }
      }
    }

    const refused = (reason: ProcessPoolErrorReason): RunReply => ({ _tag: "Errored", reason, logs: [] })

    /**
     * The worker's span is a child of the runner's span for the request when
     * that one is in the caller's trace (the cluster carries it), so a trace
     * shows both hops; otherwise a child of the caller's span directly.
     */
    const callerWire = (
      payload: RunPayload | RunStreamPayload,
      span: Tracer.AnySpan | undefined
    ): P.Caller | undefined => {
      const caller = payload.caller as P.Caller | undefined
      if (caller?.[0] == null || span === undefined || span.traceId !== caller[0][0]) return caller
      return [[span.traceId, span.spanId, span.sampled], caller[1]]
    }

    const run = (payload: RunPayload, runner: string): Effect.Effect<RunReply> =>
      Effect.withFiber((fiber) =>
        runIn(payload, runner, callerWire(payload, Context.getOrUndefined(fiber.context, Tracer.ParentSpan)))
      )

    /**
     * Where the runner's workers find a request's task, or why the runner
     * refuses it: a stop that came first, another deployment, a module
     * outside the deployment.
     */
    const accept = (
      payload: { readonly job: string; readonly deployment: string; readonly task: RunPayload["task"] },
      runner: string
    ): Jobs.TaskRef | RunReply => {
      if (earlyStops.delete(payload.job)) return { _tag: "Interrupted", logs: [] }
      if (payload.deployment !== config.deployment) {
        return refused(
          new DeploymentMismatch({
            task: payload.task.name,
            runner,
            expected: payload.deployment,
            actual: config.deployment
          })
        )
      }
      const url = resolveModuleRef(payload.task.module, config.root)
      if (Result.isFailure(url)) {
        return refused(
          new TaskNotFound({
            task: payload.task.name,
            module: JSON.stringify(payload.task.module),
            message: `Runner ${runner} refused the task's module: ${url.failure}`
          })
        )
      }
      // the engine needs only where a worker finds the task; Schemas stay with the client
      return { module: url.success, key: payload.task.key, name: payload.task.name }
    }

    const runIn = (payload: RunPayload, runner: string, wire: P.Caller | undefined): Effect.Effect<RunReply> =>
      Effect.callback<RunReply>((resume) => {
        const task = accept(payload, runner)
        if ("_tag" in task) return resume(Effect.succeed(task))
        const logs: Array<LogEntry> = []
        let settled = false
        const finish = (r: RunReply) => {
          if (settled) return
          settled = true
          running.delete(payload.job)
          resume(Effect.succeed(r))
        }
        const caller: Jobs.Caller = { wire, context: { logs } }
        const job = engine.submit({
          task,
          inputs: payload.inputs,
          mode: payload.mode,
          onEnd: (end) => finish(reply(end, { logs }, runner)),
          caller
        })
        const state: RunState = { job, logs, resume: finish, stopping: undefined }
        running.set(payload.job, state)
        // the Run RPC itself interrupted (the client's Sharding sends an Interrupt envelope)
        return Effect.callback<void>((stopped) =>
          engine.interrupt(job, () => {
            finish({ _tag: "Interrupted", logs })
            stopped(Effect.void)
          })
        )
      })

    /** A streaming task's elements, relayed as they come (see `runnerStream.ts`). */
    const runStream = (payload: RunStreamPayload, runner: string): Stream.Stream<StreamItem> =>
      Stream.unwrap(
        Effect.withFiber((fiber) => {
          const task = accept(payload, runner)
          if ("_tag" in task) return Effect.succeed(Stream.make(task))
          const span = Context.getOrUndefined(fiber.context, Tracer.ParentSpan)
          const logs: Array<LogEntry> = []
          const bufferSize = Number.isSafeInteger(payload.bufferSize) && payload.bufferSize > 0 ? payload.bufferSize : 1
          return Effect.succeed(
            RunnerStream.relay(
              engine,
              {
                task,
                input: payload.input,
                bufferSize,
                caller: { wire: callerWire(payload, span), context: { logs } },
                logs
              },
              (end) => reply(end, { logs }, runner),
              ({ job, end }) => running.set(payload.job, { job, logs, resume: end, stopping: undefined }),
              () => running.delete(payload.job)
            )
          )
        })
      )

    const stop = (job: string): Effect.Effect<void> =>
      Effect.callback<void>((resume) => {
        const state = running.get(job)
        if (state === undefined) {
          earlyStops.add(job)
          if (earlyStops.size > MAX_EARLY_STOPS) earlyStops.delete(earlyStops.values().next().value!)
          return resume(Effect.void)
        }
        engine.interrupt(state.job, () => {
          state.resume({ _tag: "Interrupted", logs: state.logs })
          resume(Effect.void)
        })
      })

    return ChunkEntity.toLayer(
      Effect.gen(function* () {
        const sharding = yield* Sharding
        const address = yield* CurrentRunnerAddress
        const runner = `${address.host}:${address.port}`
        const shardingConfig = yield* Effect.serviceOption(ShardingConfig)
        const shardsPerGroup = Option.isSome(shardingConfig) ? shardingConfig.value.shardsPerGroup : 300
        const shards = () => {
          const held: Array<number> = []
          for (let i = 1; i <= shardsPerGroup; i++) if (sharding.hasShardId(ShardId.make(SHARD_GROUP, i))) held.push(i)
          return held
        }
        return ChunkEntity.of({
          Hello: () =>
            Effect.sync(() => ({
              address: runner,
              incarnation,
              deployment: config.deployment,
              workers: config.engine.maxWorkers,
              pid: process.pid,
              shardGroup: SHARD_GROUP,
              shardsPerGroup,
              shards: shards(),
              stats: engine.stats()
            })),
          Run: (request) => run(request.payload, runner),
          RunStream: (request) => runStream(request.payload, runner),
          Stop: (request) => stop(request.payload.job)
        })
      }),
      { concurrency: "unbounded" }
    ) as unknown as Layer.Layer<never, never, Sharding>
  })

/**
 * A defect's stack gains a frame naming the runner, so that `Cause.pretty` on
 * the client shows both hops: the worker's pid and task (added by the client,
 * as locally, before this one: `origin.ts`), the runner, the worker's frames.
 */
const markDefects = (answer: P.Done | P.Outcomes | P.JobFailed, runner: string): unknown => {
  const line = `    at effect-process-pool runner ${runner} (pid ${process.pid})`
  const mark = (outcome: P.Outcome): P.Outcome => {
    if (outcome[0] !== P.DEFECT || !("error" in outcome[1])) return outcome
    const error = outcome[1].error
    return [P.DEFECT, { error: { ...error, stack: withFrame(error.stack, error.name, error.message, line) } }]
  }
  switch (answer[0]) {
    case P.DONE:
      return answer
    case P.OUTCOMES:
      return answer[2].some((outcome) => outcome[0] === P.DEFECT)
        ? [P.OUTCOMES, answer[1], answer[2].map(mark)]
        : answer
    case P.JOB_FAILED:
      return answer[2][0] === P.SETUP_FAILED ? [P.JOB_FAILED, answer[1], [P.SETUP_FAILED, mark(answer[2][1])]] : answer
  }
}
