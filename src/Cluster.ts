/**
 * The same tasks on many machines: `ProcessPool.ProcessPool` backed by runner
 * processes of an Effect Cluster (`effect/cluster`), so a program that calls
 * `ProcessPool.map(countPrimes, inputs)` runs unchanged on a cluster — as
 * Python users move from `ProcessPoolExecutor` to Dask's `Client` or Ray's
 * `multiprocessing.Pool`.
 *
 * - `layerRunner(options)` (on each runner, which needs `Sharding`) registers
 *   the chunk entity, backed by a local `ProcessPool` of the runner's own:
 *   its options are the local pool's, plus the deployment tag and root.
 * - `layerClient(options)` (in the program, which needs `Sharding`: a runner
 *   or a client-only member of the cluster) provides `ProcessPool.ProcessPool`.
 *   Every operation keeps the local pool's semantics: `map` in input order,
 *   failing with the earliest failing input's error; `mapStream` lazy, with
 *   `bufferSize` chunks in flight across the cluster; `asCompleted`; chunk
 *   sizes that tune themselves; `stream` with credit across both hops;
 *   typed errors, defects with the worker's stack, interruption, logs and
 *   spans across both hops (client → runner → worker).
 * - `entity` is the entity itself, for apps that compose their own cluster.
 *
 * **Delivery is at-least-once.** A chunk whose runner dies (or stops
 * answering for `pingTimeout`) is sent to another runner: inputs that had
 * run on the lost runner run again, as with Dask and Ray. Every resend is
 * logged and counted (`redelivered`, in inputs); after `maxRedeliveries`
 * resends of a chunk, or when no runner of the deployment has been reachable
 * for `runnerTimeout` while it waited, a task fails with `ProcessPoolError`
 * reason `RunnerUnavailable` — never a hang. Work queued behind busy runners
 * that answer waits, as it does locally. A stream is sent again only while
 * none of its elements has come: one whose runner is lost after that fails
 * with `RunnerUnavailable` after the elements that came, never repeating one.
 *
 * **Task references travel** as a path relative to the deployment root (or a
 * package name and a path inside the package, for a module in
 * `node_modules`): a runner whose copy of the code lives elsewhere finds the
 * module under its own `root` (a package in `<root>/node_modules` only), and
 * refuses a reference that escapes it. A deployment tag, the same on clients
 * and runners, keeps runners of another version of the code from getting
 * work (`DeploymentMismatch`).
 *
 * @example
 * ```ts
 * import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
 * import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
 * import * as PgClient from "@effect/sql-pg/PgClient"
 * import { Effect, Layer, Redacted } from "effect"
 * import { ProcessPool } from "effect-process-pool"
 * import * as Cluster from "effect-process-pool/Cluster"
 * import { countPrimes } from "./primes.ts"
 *
 * // this program is a member of the cluster that runs no entities itself
 * const ClusterLive = NodeClusterSocket.layer({ clientOnly: true }).pipe(
 *   Layer.provide(PgClient.layer({ url: Redacted.make(process.env.DATABASE_URL!) }))
 * )
 * const program = ProcessPool.map(countPrimes, [1e6, 2e6, 3e6])
 * program.pipe(
 *   Effect.provide(Cluster.layerClient({ deployment: "v1" }).pipe(Layer.provide(ClusterLive))),
 *   NodeRuntime.runMain
 * )
 * ```
 *
 * @since 0.2.0
 */
import * as EntityId from "effect/cluster/EntityId"
import { Sharding } from "effect/cluster/Sharding"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as LogLevel from "effect/LogLevel"
import type * as Metric from "effect/Metric"
import * as Result from "effect/Result"
import * as Scope from "effect/Scope"
import type { SqlError } from "effect/sql/SqlError"
import * as ClientEngine from "./internal/cluster/clientEngine.ts"
import * as ClientStream from "./internal/cluster/clientStream.ts"
import * as ClusterOptions from "./internal/cluster/options.ts"
import * as Protocol from "./internal/cluster/protocol.ts"
import * as Runner from "./internal/cluster/runner.ts"
import * as Storage from "./internal/cluster/storage.ts"
import * as Metrics from "./internal/metrics.ts"
import * as Options from "./internal/options.ts"
import { makeService } from "./internal/service.ts"
import * as ProcessPool from "./ProcessPool.ts"

/**
 * The chunk entity, `effect-process-pool/Chunk`: what `layerRunner`
 * registers and `layerClient` sends to. Its RPCs are internal; an app that
 * composes its own cluster needs only to know that every runner must register
 * it (through `layerRunner`) and that its type name must not be taken.
 *
 * @example
 * ```ts
 * import * as Cluster from "effect-process-pool/Cluster"
 *
 * Cluster.entity.type // "effect-process-pool/Chunk"
 * ```
 *
 * @category entities
 * @since 0.2.0
 */
export const entity = Protocol.ChunkEntity

/**
 * Options of a runner: the local pool's (`ProcessPool.Options`: `maxWorkers`
 * is how many chunks the runner runs at once; `minWorkers` defaults to
 * `maxWorkers` here, so a runner's workers start with it; `workerType` is
 * the kind of its workers), plus:
 *
 * @example
 * ```ts
 * import type * as Cluster from "effect-process-pool/Cluster"
 *
 * const options: Cluster.RunnerOptions = { deployment: "v42", maxWorkers: 8, root: "/srv/app" }
 * ```
 *
 * @category models
 * @since 0.2.0
 */
export interface RunnerOptions extends ProcessPool.Options {
  /**
   * The deployment tag: the version of the code this runner has. Clients of
   * another tag send it nothing. Required: runners cache task modules, so
   * version skew between a client and a runner would otherwise be silent.
   */
  readonly deployment: string
  /**
   * The deployment root: where this runner's copy of the code lives; task
   * references are resolved against it and may not escape it. A path or a
   * `file:` URL. Default: the working directory.
   */
  readonly root?: string | URL | undefined
}

/**
 * Options of a client. Durations are milliseconds or strings such as `"2 seconds"`.
 *
 * @example
 * ```ts
 * import type * as Cluster from "effect-process-pool/Cluster"
 *
 * const options: Cluster.ClientOptions = { deployment: "v42", pingTimeout: "3 seconds" }
 * ```
 *
 * @category models
 * @since 0.2.0
 */
export interface ClientOptions {
  /** The deployment tag: only runners with the same one get work. Required. */
  readonly deployment: string
  /**
   * The deployment root: the folder whose layout runners share, so that a
   * task module under it travels as its path relative to it. A path or a
   * `file:` URL. Default: the working directory.
   */
  readonly root?: string | URL | undefined
  /**
   * While the client has work, a runner that has not answered (a chunk or a
   * `Hello`) for this long is asked whether it is alive (a `Hello` through
   * its route); also how often the client looks for runners that joined.
   * Default: 500 ms.
   */
  readonly pingInterval?: Duration.Input | undefined
  /**
   * A runner that has not answered for this long, asked and silent on the
   * question for at least half of it, is taken as lost: its chunks go to
   * other runners. Each runner is asked on its own, so with the defaults any
   * number of runners killed at once are found lost about 1.5 s after their
   * last answer, and their work runs elsewhere within ~2 s. Shorter finds a
   * dead runner sooner, and takes a slow one for dead sooner (its chunks then
   * run twice). Default: 1.5 seconds.
   */
  readonly pingTimeout?: Duration.Input | undefined
  /**
   * A queued chunk fails with `RunnerUnavailable` once no runner of the
   * deployment has been reachable for this long while it waited (none found,
   * all lost, or all of another deployment: then `DeploymentMismatch`).
   * Never for waiting behind busy runners that answer: that work waits, as it
   * does locally; give a caller a deadline with `Effect.timeout`.
   * Default: 30 seconds.
   */
  readonly runnerTimeout?: Duration.Input | undefined
  /** How many times one chunk is sent again after runners were lost, before it fails with `RunnerUnavailable`. Default: 3. */
  readonly maxRedeliveries?: number | undefined
  /**
   * Chunks in flight per worker of a runner: one running, the next one
   * waiting on the runner, so a worker does not idle for a network round trip
   * between two chunks. Per client: clients that share runners each send up
   * to this many, and a runner's pool runs them first come, first served
   * (two clients measured at 0.46–0.49 of the work each). Default: 2.
   */
  readonly chunksPerWorker?: number | undefined
  /**
   * How long an interrupted caller waits for the runner to confirm that the
   * chunk has stopped in its worker before it resumes anyway (the runner may
   * be gone). Should exceed the runners' `interruptGrace`. Default: 5 seconds.
   */
  readonly stopTimeout?: Duration.Input | undefined
  /**
   * The most inputs in the client's own queue (chunks waiting for a runner's
   * credit), as the local pool's `maxQueue`: when it is full, `run` and
   * `submit` suspend until there is room, in arrival order, and `map`,
   * `mapStream` and `asCompleted` feed their chunks under it. The runners'
   * queues are bounded by `chunksPerWorker`. Default: `Infinity` (unbounded).
   */
  readonly maxQueue?: number | undefined
}

/**
 * Inputs sent to another runner after theirs was lost: each may have run twice
 * (at-least-once). A counter; the same number is logged at Warn with each resend.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import * as Cluster from "effect-process-pool/Cluster"
 *
 * const ranTwice = Effect.map(Metric.value(Cluster.redelivered), (state) => state.count)
 * ```
 *
 * @category metrics
 * @since 0.2.0
 */
export const redelivered: Metric.Counter<number> = ClientEngine.redelivered

/**
 * The runners of the client's deployment that answer, as the client sees them.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import * as Cluster from "effect-process-pool/Cluster"
 *
 * const live = Effect.map(Metric.value(Cluster.runners), (state) => state.value)
 * ```
 *
 * @category metrics
 * @since 0.2.0
 */
export const runners: Metric.Gauge<number> = ClientEngine.runnersLive

/**
 * Registers the chunk entity on this runner, backed by a local pool with
 * these options; the pool closes with the layer (its chunks end interrupted,
 * and their clients send them to other runners).
 *
 * @example
 * ```ts
 * import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
 * import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
 * import * as PgClient from "@effect/sql-pg/PgClient"
 * import { Layer, Option, Redacted } from "effect"
 * import * as RunnerAddress from "effect/cluster/RunnerAddress"
 * import * as Cluster from "effect-process-pool/Cluster"
 *
 * const runnerAddress = Option.some(RunnerAddress.make("10.0.0.7", 34431))
 * Cluster.layerRunner({ deployment: "v1", maxWorkers: 4 }).pipe(
 *   Layer.provide(NodeClusterSocket.layer({ shardingConfig: { runnerAddress } })),
 *   Layer.provide(PgClient.layer({ url: Redacted.make(process.env.DATABASE_URL!) })),
 *   Layer.launch,
 *   NodeRuntime.runMain
 * )
 * ```
 *
 * @category layers
 * @since 0.2.0
 */
export const layerRunner = (options: RunnerOptions): Layer.Layer<never, never, Sharding> =>
  Layer.unwrap(
    Effect.suspend(() => {
      const validated = ClusterOptions.runnerOptions(options)
      return Result.isFailure(validated) ? Options.illegal(validated.failure) : Runner.make(validated.success)
    })
  )

/**
 * Builds a cluster-backed pool in the current scope; see `layerClient`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as Cluster from "effect-process-pool/Cluster"
 * import { countPrimes } from "./primes.ts"
 *
 * const counts = Effect.scoped(
 *   Effect.flatMap(Cluster.makeClient({ deployment: "v42" }), (pool) => pool.map(countPrimes, [1e6, 2e6]))
 * )
 * ```
 *
 * @category constructors
 * @since 0.2.0
 */
export const makeClient = (options: ClientOptions): Effect.Effect<ProcessPool.Service, never, Sharding | Scope.Scope> =>
  Effect.gen(function* () {
    const validated = ClusterOptions.clientOptions(options)
    if (Result.isFailure(validated)) return yield* Options.illegal(validated.failure)
    const config = validated.success
    const sharding = yield* Sharding
    const clientFor = yield* Protocol.ChunkEntity.client
    const scope = yield* Effect.scope
    const fibers = yield* Scope.fork(scope)
    const context = yield* Effect.context<never>()
    const engine = yield* ClientEngine.make(
      config,
      {
        hello: (id) => clientFor(id).Hello(),
        run: (id, payload) => clientFor(id).Run(payload),
        runStream: (id, payload) =>
          clientFor(id).RunStream(payload, { asQueue: true, streamBufferSize: ClientStream.RPC_BUFFER }),
        stop: (id, job) => clientFor(id).Stop({ job }),
        shardOf: (id) => sharding.getShardId(EntityId.make(id), "default").id
      },
      {
        metrics: Metrics.recorder(context),
        onLog: (caller, entry) => {
          const log = Effect.logWithLevel(entry.level as LogLevel.Severity)(...entry.message).pipe(
            Effect.annotateLogs(entry.annotations)
          )
          Effect.runForkWith((caller as typeof context | undefined) ?? context)(log)
        }
      }
    )
    yield* Scope.addFinalizer(
      scope,
      Effect.callback<void>((resume) => engine.shutdown(() => resume(Effect.void)))
    )
    return ProcessPool.ProcessPool.of(makeService(engine, engine.workers, fibers))
  })

/**
 * A layer that provides `ProcessPool.ProcessPool` over the cluster's runners.
 * It needs `Sharding`: the program is a runner itself, or a client-only
 * member of the cluster (`NodeClusterSocket.layer({ clientOnly: true })`).
 *
 * `stats` are sums over the runners that answer (`workers`, `busy`,
 * `queued`, `crashed`, `restarted`, as each last reported them, at most
 * `pingInterval` old), plus the chunks queued in this client; `completed` and
 * `failed` count this client's inputs.
 *
 * @example
 * ```ts
 * import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
 * import * as PgClient from "@effect/sql-pg/PgClient"
 * import { Effect, Layer, Redacted } from "effect"
 * import { ProcessPool } from "effect-process-pool"
 * import * as Cluster from "effect-process-pool/Cluster"
 * import { countPrimes } from "./primes.ts"
 *
 * const ClusterLive = NodeClusterSocket.layer({ clientOnly: true }).pipe(
 *   Layer.provide(PgClient.layer({ url: Redacted.make(process.env.DATABASE_URL!) }))
 * )
 * const counts = ProcessPool.map(countPrimes, [1e6, 2e6]).pipe(
 *   Effect.provide(Cluster.layerClient({ deployment: "v1" }).pipe(Layer.provide(ClusterLive)))
 * )
 * ```
 *
 * @category layers
 * @since 0.2.0
 */
export const layerClient = (options: ClientOptions): Layer.Layer<ProcessPool.ProcessPool, never, Sharding> =>
  Layer.effect(ProcessPool.ProcessPool, makeClient(options))

/**
 * A cluster member's layer (a client-only `NodeClusterSocket.layer` or a
 * runner's, over its SQL client) whose storage failures while it is built
 * are typed: Effect Cluster's SQL storage dies with a `SqlError` defect when
 * the database cannot be reached (its runner storage is built under
 * `Layer.orDie`, its message storage's migrations under `Effect.orDie`), so
 * without this a new client or runner dies in milliseconds with PostgreSQL
 * gone. With it, the layer fails with that `SqlError` (same reason, e.g.
 * `ConnectionError`, whose `isRetryable` is true) and a message that names
 * the cluster's storage: `Layer.retry` or `Effect.catchTag("SqlError", …)`
 * handle it. Other defects stay defects.
 *
 * @example
 * ```ts
 * import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
 * import * as PgClient from "@effect/sql-pg/PgClient"
 * import { Effect, Layer, Redacted } from "effect"
 * import { ProcessPool } from "effect-process-pool"
 * import * as Cluster from "effect-process-pool/Cluster"
 * import { countPrimes } from "./primes.ts"
 *
 * const ClusterLive = NodeClusterSocket.layer({ clientOnly: true }).pipe(
 *   Layer.provide(PgClient.layer({ url: Redacted.make(process.env.DATABASE_URL!) })),
 *   Cluster.withStorageErrors
 * )
 * const counts = ProcessPool.map(countPrimes, [1e6, 2e6]).pipe(
 *   Effect.provide(Cluster.layerClient({ deployment: "v1" }).pipe(Layer.provide(ClusterLive))),
 *   Effect.catchTag("SqlError", (error) => Effect.die(`no cluster today: ${error.message}`))
 * )
 * ```
 *
 * @category layers
 * @since 0.2.0
 */
export const withStorageErrors: <A, E, R>(member: Layer.Layer<A, E, R>) => Layer.Layer<A, E | SqlError, R> =
  Storage.withStorageErrors
