/**
 * The pool's own failures, kept apart from a task's typed errors and from defects.
 *
 * One error class, `ProcessPoolError`, carries a `reason`: a union of
 * Schema-backed tagged classes, in the house style of Effect's own `WorkerError`.
 * Match the whole error with `Effect.catchTag("ProcessPoolError", ...)`, or one
 * reason with `Effect.catchReason("ProcessPoolError", "WorkerCrashed", ...)`.
 * Every class round-trips through its Schema, so a pool error can itself cross a
 * process or network boundary.
 *
 * @since 0.1.0
 */
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

const TypeId = "~effect-process-pool/ProcessPoolError" as const

/**
 * The worker process running this task died (exited, crashed or was killed)
 * before it answered. Only that task fails: the pool replaces the worker and
 * keeps serving. Python fails the whole executor with `BrokenProcessPool`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ProcessPool } from "effect-process-pool"
 * import { countPrimes } from "./primes.ts"
 *
 * ProcessPool.run(countPrimes, 1e6).pipe(
 *   Effect.catchReason("ProcessPoolError", "WorkerCrashed", (crash) =>
 *     Effect.logWarning(`${crash.worker} died: ${crash.detail}`)
 *   )
 * )
 * ```
 *
 * @category reasons
 * @since 0.1.0
 */
export class WorkerCrashed extends Schema.Error<WorkerCrashed>("WorkerCrashed")({
  _tag: Schema.tag("WorkerCrashed"),
  /** the name of the task that was running */
  task: Schema.String,
  /** the kind of worker that died: `"process"` or `"thread"` */
  workerType: Schema.String,
  /** the worker's number in its pool */
  workerId: Schema.Number,
  /** a worker process's pid */
  pid: Schema.optional(Schema.Number),
  /** a worker thread's `threadId` */
  threadId: Schema.optional(Schema.Number),
  exitCode: Schema.NullOr(Schema.Number),
  /** the signal that ended a worker process */
  signal: Schema.NullOr(Schema.String),
  /** how it died, in words: "was killed by SIGKILL", "ran out of memory", "...: it lost its channel: ..." */
  detail: Schema.optional(Schema.String)
}) {
  /** `worker 3 (pid 4242)`, `worker 3 (thread 7)` */
  get worker(): string {
    const where =
      this.pid !== undefined
        ? `pid ${this.pid}`
        : this.threadId !== undefined
          ? `thread ${this.threadId}`
          : this.workerType
    return `worker ${this.workerId} (${where})`
  }

  override get message(): string {
    const how =
      this.detail ?? (this.signal !== null ? `was killed by ${this.signal}` : `exited with code ${this.exitCode}`)
    return `The ${this.worker} running task "${this.task}" ${how}`
  }
}

/**
 * A payload, a success value or a typed error did not fit the task's Schema
 * (or could not be serialized at all). `phase` says which of the three. A
 * Schema that throws (a transformation that throws rather than failing) fails
 * the same way, with what it threw as `cause`: only that input fails, and the
 * worker goes on.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ProcessPool } from "effect-process-pool"
 * import { square } from "./square.ts"
 *
 * const squared = (n: number) =>
 *   ProcessPool.run(square, n).pipe(
 *     Effect.catchReason("ProcessPoolError", "TaskCodecError", (e) => Effect.fail(`bad ${e.phase}: ${e.message}`))
 *   )
 * ```
 *
 * @category reasons
 * @since 0.1.0
 */
export class TaskCodecError extends Schema.Error<TaskCodecError>("TaskCodecError")({
  _tag: Schema.tag("TaskCodecError"),
  task: Schema.String,
  /** `"element"`: an element of a streaming task's stream (`index` is its position in the stream) */
  phase: Schema.Literals(["payload", "success", "failure", "element"]),
  message: Schema.String,
  /** what the Schema threw, when it threw rather than failed (a bug of the task's, not of the value) */
  cause: Schema.optional(Schema.Defect()),
  /** the input's position, in a `map`, `mapStream` or `asCompleted`; the element's, in a `stream` */
  index: Schema.optional(Schema.Number)
}) {}

/**
 * The task's module was imported, but none of its exports is a task with that name.
 *
 * @example
 * ```ts
 * import { ProcessPoolError } from "effect-process-pool"
 *
 * const hint = (e: ProcessPoolError.TaskNotFound) => `export the task "${e.task}" from ${e.module}`
 * ```
 *
 * @category reasons
 * @since 0.1.0
 */
export class TaskNotFound extends Schema.Error<TaskNotFound>("TaskNotFound")({
  _tag: Schema.tag("TaskNotFound"),
  task: Schema.String,
  module: Schema.String,
  message: Schema.String
}) {}

/**
 * A worker could not start, or could not import the task's module: a bad
 * module, a syntax error, a throw on import, bad `execArgv`, a crash loop.
 * Tasks fail with it instead of waiting. `cause` is the thrown error when there
 * is one; `stderr` holds the last lines the child wrote when it died early.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ProcessPool } from "effect-process-pool"
 * import { square } from "./square.ts"
 *
 * ProcessPool.run(square, 3).pipe(
 *   Effect.catchReason("ProcessPoolError", "WorkerStartError", (e) => Effect.logError(e.message, e.stderr ?? ""))
 * )
 * ```
 *
 * @category reasons
 * @since 0.1.0
 */
export class WorkerStartError extends Schema.Error<WorkerStartError>("WorkerStartError")({
  _tag: Schema.tag("WorkerStartError"),
  message: Schema.String,
  /** the task that was waiting for the worker */
  task: Schema.String,
  /** the worker that failed to start or to load the task: `worker 3 (pid 4242)` */
  worker: Schema.optional(Schema.String),
  pid: Schema.optional(Schema.Number),
  exitCode: Schema.optional(Schema.NullOr(Schema.Number)),
  signal: Schema.optional(Schema.NullOr(Schema.String)),
  stderr: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect())
}) {}

/**
 * Work was handed to a pool whose scope has closed.
 *
 * @example
 * ```ts
 * import { ProcessPoolError } from "effect-process-pool"
 *
 * const closed = new ProcessPoolError.ProcessPoolError({ reason: new ProcessPoolError.PoolClosed({ task: "square" }) })
 * closed.message // 'The process pool is closed: task "square" was not run'
 * ```
 *
 * @category reasons
 * @since 0.1.0
 */
export class PoolClosed extends Schema.Error<PoolClosed>("PoolClosed")({
  _tag: Schema.tag("PoolClosed"),
  task: Schema.String
}) {
  override get message(): string {
    return `The process pool is closed: task "${this.task}" was not run`
  }
}

/**
 * Cluster (`effect-process-pool/Cluster`): no runner could take or finish
 * this task — none is registered or reachable within the client's
 * `runnerTimeout`, or the chunk was sent again after runner deaths more than
 * `maxRedeliveries` times. `runner` names the last runner tried, if any.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ProcessPool } from "effect-process-pool"
 * import { countPrimes } from "./primes.ts"
 *
 * ProcessPool.run(countPrimes, 1e6).pipe(
 *   Effect.catchReason("ProcessPoolError", "RunnerUnavailable", (e) => Effect.logError(e.message))
 * )
 * ```
 *
 * @category reasons
 * @since 0.2.0
 */
export class RunnerUnavailable extends Schema.Error<RunnerUnavailable>("RunnerUnavailable")({
  _tag: Schema.tag("RunnerUnavailable"),
  task: Schema.String,
  runner: Schema.optional(Schema.String),
  message: Schema.String
}) {}

/**
 * Cluster (`effect-process-pool/Cluster`): the runners' deployment tag is not
 * the client's, so they may hold another version of the task's code (runners
 * cache task modules, so version skew would otherwise be silent). Runners of
 * another deployment get no work; a task fails with this when no runner of
 * the client's deployment is there.
 *
 * @example
 * ```ts
 * import type { ProcessPoolError } from "effect-process-pool"
 *
 * const hint = (e: ProcessPoolError.DeploymentMismatch) => `runner ${e.runner} runs ${e.actual}, not ${e.expected}`
 * ```
 *
 * @category reasons
 * @since 0.2.0
 */
export class DeploymentMismatch extends Schema.Error<DeploymentMismatch>("DeploymentMismatch")({
  _tag: Schema.tag("DeploymentMismatch"),
  task: Schema.String,
  runner: Schema.String,
  /** the client's deployment tag */
  expected: Schema.String,
  /** the runner's */
  actual: Schema.String
}) {
  override get message(): string {
    return `Runner ${this.runner} runs deployment "${this.actual}", not the client's "${this.expected}": task "${this.task}" was not sent to it`
  }
}

/**
 * The operation cannot run where it was asked to: a streaming task through a
 * cluster's client (`Cluster.layerClient`), whose runners answer a request
 * once, not element by element. `operation` names it; `message` says why and
 * what to do instead.
 *
 * @example
 * ```ts
 * import type { ProcessPoolError } from "effect-process-pool"
 *
 * const hint = (e: ProcessPoolError.Unsupported) => `${e.operation} of "${e.task}": ${e.message}`
 * ```
 *
 * @category reasons
 * @since 0.3.0
 */
export class Unsupported extends Schema.Error<Unsupported>("Unsupported")({
  _tag: Schema.tag("Unsupported"),
  task: Schema.String,
  operation: Schema.String,
  message: Schema.String
}) {}

/**
 * Every reason of a `ProcessPoolError`.
 *
 * @example
 * ```ts
 * import type { ProcessPoolError } from "effect-process-pool"
 *
 * const retryable = (reason: ProcessPoolError.ProcessPoolErrorReason) => reason._tag === "WorkerCrashed"
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type ProcessPoolErrorReason =
  | WorkerCrashed
  | TaskCodecError
  | TaskNotFound
  | WorkerStartError
  | PoolClosed
  | RunnerUnavailable
  | DeploymentMismatch
  | Unsupported

/**
 * The Schema of every reason.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { ProcessPoolError } from "effect-process-pool"
 *
 * const decodeReason = Schema.decodeUnknownSync(Schema.toCodecJson(ProcessPoolError.ProcessPoolErrorReason))
 * ```
 *
 * @category schemas
 * @since 0.1.0
 */
export const ProcessPoolErrorReason: Schema.Union<
  [
    typeof WorkerCrashed,
    typeof TaskCodecError,
    typeof TaskNotFound,
    typeof WorkerStartError,
    typeof PoolClosed,
    typeof RunnerUnavailable,
    typeof DeploymentMismatch,
    typeof Unsupported
  ]
> = Schema.Union([
  WorkerCrashed,
  TaskCodecError,
  TaskNotFound,
  WorkerStartError,
  PoolClosed,
  RunnerUnavailable,
  DeploymentMismatch,
  Unsupported
])

/**
 * The pool's own failure; `reason` says which.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ProcessPool } from "effect-process-pool"
 * import { countPrimes } from "./primes.ts"
 *
 * ProcessPool.run(countPrimes, 1e6).pipe(
 *   Effect.catchReason("ProcessPoolError", "WorkerCrashed", (crash) => Effect.succeed(-crash.workerId))
 * )
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class ProcessPoolError extends Schema.Error<ProcessPoolError>("ProcessPoolError")({
  _tag: Schema.tag("ProcessPoolError"),
  reason: ProcessPoolErrorReason
}) {
  constructor(props: { readonly reason: ProcessPoolErrorReason }) {
    super({ ...props, cause: props.reason.cause } as any)
  }

  /**
   * Marks this value as a pool error for `isProcessPoolError`.
   */
  readonly [TypeId]: typeof TypeId = TypeId

  override get message(): string {
    return this.reason.message
  }
}

/**
 * Whether a value is a `ProcessPoolError`.
 *
 * @example
 * ```ts
 * import { Cause } from "effect"
 * import { ProcessPoolError } from "effect-process-pool"
 *
 * const poolFailed = (cause: Cause.Cause<unknown>) => ProcessPoolError.isProcessPoolError(Cause.squash(cause))
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isProcessPoolError = (u: unknown): u is ProcessPoolError => Predicate.hasProperty(u, TypeId)
