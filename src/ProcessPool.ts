/**
 * A pool of worker processes that runs tasks in parallel: Python's
 * `concurrent.futures.ProcessPoolExecutor` as a scoped Effect service.
 *
 * The pool lives as long as its scope: `ProcessPool.layer(options)` provides it
 * to a program, `ProcessPool.make(options)` builds it in the current scope.
 * Closing the scope refuses new work, interrupts queued and running tasks, asks
 * the workers to exit (their task layers are released) and kills stragglers
 * after `shutdownTimeout`; when it has closed, no worker process is alive.
 *
 * Workers start on demand up to `maxWorkers` and run one task at a time. A
 * task interrupted while it runs is interrupted inside its worker; a worker
 * that does not confirm within `interruptGrace` is killed and replaced. A
 * worker that dies fails only the task it was running.
 *
 * @example
 * ```ts
 * import { NodeRuntime } from "@effect/platform-node"
 * import { Effect, Fiber } from "effect"
 * import { ProcessPool } from "effect-process-pool"
 * import { countPrimes } from "./primes.ts"
 *
 * const program = Effect.gen(function* () {
 *   const counts = yield* ProcessPool.map(countPrimes, [1e6, 2e6, 3e6])
 *   const future = yield* ProcessPool.submit(countPrimes, 5e6)
 *   console.log(counts, yield* Fiber.join(future))
 * })
 *
 * program.pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 4 })), NodeRuntime.runMain)
 * ```
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import type * as LogLevel from "effect/LogLevel"
import * as Result from "effect/Result"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Engine from "./internal/engine.ts"
import * as Metrics from "./internal/metrics.ts"
import { unsupportedHere } from "./internal/nodeVersion.ts"
import * as Options_ from "./internal/options.ts"
import { makeService } from "./internal/service.ts"
import * as WorkerContext from "./internal/workerContext.ts"
import type { ProcessPoolError } from "./ProcessPoolError.ts"
import type { StreamTask, Task } from "./Task.ts"

/**
 * The pool's options. Every field is optional.
 *
 * @example
 * ```ts
 * import { ProcessPool } from "effect-process-pool"
 *
 * const options: ProcessPool.Options = { maxWorkers: 4, maxTasksPerWorker: 1000, interruptGrace: "2 seconds" }
 * const PoolLive = ProcessPool.layer(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Options {
  /**
   * The kind of worker: `"process"` (default), a child process of its own for
   * each worker, or `"thread"`, a worker thread of this process. Threads start
   * faster, take less memory and pass bytes without copying them to text;
   * processes isolate a task's crashes, memory and process-wide state (see the
   * README, "Threads or processes"). Same tasks, operations and errors on both.
   */
  readonly workerType?: "process" | "thread" | undefined
  /** The most worker processes alive at once. Default: `os.availableParallelism()`. */
  readonly maxWorkers?: number | undefined
  /** Workers started with the pool and kept alive; others start on demand. Default: 0, as in Python. */
  readonly minWorkers?: number | undefined
  /**
   * A worker is replaced after running this many jobs (a `map` chunk counts as
   * one), as Python's `max_tasks_per_child`. Default: none.
   */
  readonly maxTasksPerWorker?: number | undefined
  /**
   * The most inputs that may wait in the pool (queued, or taken ahead by a
   * worker and not started). When it is full, `run` and `submit` suspend until
   * there is room, in arrival order (`submit` returns its fiber once its task
   * is admitted), and `map`, `mapStream` and `asCompleted` feed their chunks
   * under the same bound: a producer goes at the pool's pace instead of
   * filling memory. An interrupted caller leaves the line and takes no room;
   * closing the pool fails the waiting callers with `PoolClosed`.
   * Default: `Infinity` (unbounded).
   */
  readonly maxQueue?: number | undefined
  /**
   * How long a running task may take to honour an interruption before its
   * worker is killed (SIGKILL) and replaced. Default: 1 second — long enough
   * for finalizers that close a file or a connection, short enough that a
   * timeout around a runaway synchronous loop still returns promptly.
   */
  readonly interruptGrace?: Duration.Input | undefined
  /**
   * When the pool's scope closes, how long workers have to finish their
   * interruptions and release their task layers before they are killed.
   * Default: 5 seconds.
   */
  readonly shutdownTimeout?: Duration.Input | undefined
  /**
   * A worker whose resident memory (RSS) after a job exceeds this many bytes is
   * replaced: it finishes what it holds, releases its task layers and exits — a
   * guard against tasks that leak (loky's and tinypool's memory limit). Checked
   * after each job, so it costs a few microseconds a job when set. Default: none.
   */
  readonly maxWorkerMemory?: number | undefined
  /** Workers idle this long stop, down to `minWorkers`. Default: none (they live until the pool closes). */
  readonly idleTimeout?: Duration.Input | undefined
  /** Node options of the worker processes. Default: the parent's `process.execArgv`. */
  readonly execArgv?: ReadonlyArray<string> | undefined
  /** Added to the parent's environment for the workers (not a replacement for it). */
  readonly env?: Readonly<Record<string, string>> | undefined
  /**
   * The workers' stdout and stderr: `"inherit"` (default: they write where the
   * parent writes) or `"log"`: each line becomes an entry of the pool's logger
   * (stdout at Info, stderr at Warn), annotated with the worker's id and pid.
   * Either way, `Effect.log` in a task reaches the caller's logger, annotated
   * with the worker's id and pid and the task's name.
   */
  readonly stdio?: "inherit" | "log" | undefined
  /**
   * How IPC messages are framed: `"json"` (default: fastest for the small
   * messages of most tasks) or `"advanced"` (Node's structured clone, faster
   * for large batches of numbers). Values cross as the JSON form of their
   * Schemas either way.
   */
  readonly serialization?: "json" | "advanced" | undefined
}

/**
 * A snapshot of the pool's state and counters.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ProcessPool } from "effect-process-pool"
 *
 * const report = Effect.map(ProcessPool.stats, (s) => `${s.busy}/${s.workers} busy, ${s.queued} queued`)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface PoolStats {
  /** worker processes alive (starting, ready or finishing their last job) */
  readonly workers: number
  /** workers running a job */
  readonly busy: number
  /** inputs not started yet: in the parent's queue or taken ahead by a worker (at most `maxQueue`) */
  readonly queued: number
  /**
   * calls suspended until there is room under `maxQueue`: a `run` or `submit`,
   * or a chunk of `map`, `mapStream` or `asCompleted` (always 0 without `maxQueue`)
   */
  readonly waiting: number
  /** inputs that succeeded */
  readonly completed: number
  /** inputs that failed: typed errors, defects, pool errors (work refused by a closed pool is not counted) */
  readonly failed: number
  /** workers that died unexpectedly */
  readonly crashed: number
  /** workers started to replace one that died, was killed or was recycled */
  readonly restarted: number
}

/**
 * Options of `map`.
 *
 * @example
 * ```ts
 * import { ProcessPool } from "effect-process-pool"
 * import { square } from "./square.ts"
 *
 * const inputs = Array.from({ length: 100_000 }, (_, i) => i)
 * ProcessPool.map(square, inputs, { chunksize: 1000 })
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface MapOptions {
  /**
   * How many inputs travel in one IPC message (a chunk); the worker runs them in
   * order and answers the chunk at once. A positive integer, or `"auto"`
   * (default): chunks start at one input and grow until one takes about 10 ms,
   * then shrink near the end of the input so every worker stays busy — one
   * input per chunk for heavy tasks, thousands for tiny ones.
   */
  readonly chunksize?: number | "auto" | undefined
}

/**
 * Options of `mapStream` and `asCompleted`.
 *
 * @example
 * ```ts
 * import { Stream } from "effect"
 * import { ProcessPool } from "effect-process-pool"
 * import { square } from "./square.ts"
 *
 * const naturals = Stream.iterate(1, (n) => n + 1) // endless: read only as results are consumed
 * ProcessPool.mapStream(square, naturals, { chunksize: "auto", bufferSize: 8 })
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface StreamOptions extends MapOptions {
  /**
   * At most this many chunks are submitted and not yet emitted (Python 3.14's
   * `buffersize`): inputs are read only as results are consumed, so an endless
   * input is fine. Default: twice `maxWorkers`, enough to keep every worker busy.
   */
  readonly bufferSize?: number | undefined
}

/**
 * Options of `stream`.
 *
 * @example
 * ```ts
 * import { ProcessPool } from "effect-process-pool"
 * import { lines } from "./lines.ts"
 *
 * // the worker runs at most 256 lines ahead of the consumer
 * ProcessPool.stream(lines, "a\nb\nc", { bufferSize: 256 })
 * ```
 *
 * @category models
 * @since 0.3.0
 */
export interface StreamTaskOptions {
  /**
   * At most this many elements are emitted by the worker and not yet taken by
   * the consumer (the credit the worker holds, and the buffer in the parent
   * that fills as it spends it): the worker waits for the consumer beyond it.
   * It also bounds how many elements travel in one message (half of it at most). Default: 2048, at which small
   * elements move at more than half the pace of a bare pipe or `MessagePort` (a smaller buffer moves them more
   * slowly, at a round trip per buffer, and holds less memory: it counts elements, not bytes, so give elements the
   * size of frames a smaller one).
   */
  readonly bufferSize?: number | undefined
}

/**
 * One element of `asCompleted`: the input's position, the input itself (the
 * caller's own value) and how its task ended.
 *
 * @example
 * ```ts
 * import { Effect, Exit, Stream } from "effect"
 * import { ProcessPool } from "effect-process-pool"
 * import { countPrimes } from "./primes.ts"
 *
 * ProcessPool.asCompleted(countPrimes, [1e5, 1e7]).pipe(
 *   Stream.runForEach(({ exit, index, input }) =>
 *     Effect.log(`#${index} (${input}): ${Exit.isSuccess(exit) ? exit.value : "failed"}`)
 *   )
 * )
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Completed<I, A, E> {
  readonly index: number
  readonly input: I
  readonly exit: Exit.Exit<A, E | ProcessPoolError>
}

/**
 * What the pool can do; `ProcessPool.ProcessPool` is its service tag.
 *
 * @example
 * ```ts
 * import { ProcessPool } from "effect-process-pool"
 * import { countPrimes } from "./primes.ts"
 *
 * const twice = (pool: ProcessPool.Service) => pool.map(countPrimes, [1e6, 1e6])
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Service {
  /** Runs one task in a worker and waits for its result (with `maxQueue`, first for room in the queue). */
  readonly run: <I, A, E>(task: Task<I, A, E>, payload: NoInfer<I>) => Effect.Effect<A, E | ProcessPoolError>
  /**
   * Starts one task and returns at once with its fiber — the pool's Future. The
   * fiber belongs to the pool: it outlives the fiber that called `submit`, and
   * is interrupted when the pool shuts down. `Fiber.interrupt` cancels it, even
   * while it runs. With `maxQueue`, it returns once its task is admitted: a
   * loop of `submit`s goes at the pool's pace. Without, the fiber is a handle
   * on the job that keeps `Fiber`'s contract (`join`, `await`, `interrupt`,
   * `joinAll`, `runIn`, observers) and runs no Effect fiber in the parent.
   */
  readonly submit: <I, A, E>(
    task: Task<I, A, E>,
    payload: NoInfer<I>
  ) => Effect.Effect<Fiber.Fiber<A, E | ProcessPoolError>>
  /**
   * Runs the task on every input and succeeds with the results in input order;
   * fails with the error of the earliest failing input (as iterating Python's
   * `map` would) and cancels the rest: chunks in flight are interrupted in
   * their workers, chunks not yet started never start.
   */
  readonly map: <I, A, E>(
    task: Task<I, A, E>,
    inputs: Iterable<NoInfer<I>>,
    options?: MapOptions
  ) => Effect.Effect<Array<A>, E | ProcessPoolError>
  /**
   * The results in input order, as a lazy `Stream`. `inputs` is an `Iterable`
   * or a `Stream`, possibly endless: inputs are taken only as needed, at most
   * `bufferSize` chunks are in flight, and stopping the consumer (`Stream.take`,
   * interruption) stops all work in the workers. Fails like `map`, after
   * emitting the results before the failing input.
   */
  readonly mapStream: <I, A, E, EI = never, RI = never>(
    task: Task<I, A, E>,
    inputs: Iterable<NoInfer<I>> | Stream.Stream<NoInfer<I>, EI, RI>,
    options?: StreamOptions
  ) => Stream.Stream<A, E | ProcessPoolError | EI, RI>
  /**
   * One element per input, in completion order — Python's `as_completed`. A
   * failed input is an element with a failed `Exit`, and the stream goes on;
   * every input appears exactly once; stopping early cancels the rest.
   */
  readonly asCompleted: <I, A, E, EI = never, RI = never>(
    task: Task<I, A, E>,
    inputs: Iterable<NoInfer<I>> | Stream.Stream<NoInfer<I>, EI, RI>,
    options?: StreamOptions
  ) => Stream.Stream<Completed<I, A, E>, EI, RI>
  /**
   * The elements of a streaming task (`Task.makeStream`) on one payload, as
   * its worker emits them. The worker runs at most `bufferSize` elements ahead
   * of the consumer; stopping the consumer (`Stream.take`, interruption)
   * interrupts the task's stream in its worker, whose finalizers run there.
   * The task holds its worker until its stream ends. Fails with the task's
   * typed error, or a `ProcessPoolError` (`WorkerCrashed`, `TaskCodecError`
   * for an element that does not fit `element`, naming its index), after the
   * elements before the failure.
   */
  readonly stream: <I, A, E>(
    task: StreamTask<I, A, E>,
    payload: NoInfer<I>,
    options?: StreamTaskOptions
  ) => Stream.Stream<A, E | ProcessPoolError>
  /** A snapshot of the pool's counters. */
  readonly stats: Effect.Effect<PoolStats>
}

/**
 * The pool as a service.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ProcessPool } from "effect-process-pool"
 * import { countPrimes } from "./primes.ts"
 *
 * const program = Effect.gen(function* () {
 *   const pool = yield* ProcessPool.ProcessPool
 *   return yield* pool.run(countPrimes, 1e6)
 * })
 * ```
 *
 * @category services
 * @since 0.1.0
 */
export class ProcessPool extends Context.Service<ProcessPool, Service>()("effect-process-pool/ProcessPool") {}

/**
 * The module's operations find the pool in the context here. A missing pool
 * does not type-check, but JavaScript, or a cast, gets past that; Effect's own
 * defect then says only `Service not found: effect-process-pool/ProcessPool`
 * (a service cannot carry more: `Context.Service` takes a key and nothing
 * else), so this one says what to provide.
 */
const usePool = <A, E, R>(f: (pool: Service) => Effect.Effect<A, E, R>): Effect.Effect<A, E, R | ProcessPool> =>
  Effect.withFiber((fiber) => {
    const pool = Context.getOrUndefined(fiber.context, ProcessPool)
    return pool === undefined ? Effect.die(missingPool()) : f(pool)
  })

const missingPool = (): Error => {
  const error = new Error(
    `Service not found: ${ProcessPool.key}. Provide a pool to the program, ` +
      "`program.pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 4 })))`, or build one in a scope with " +
      "`ProcessPool.make(options)` and call its methods."
  )
  error.stack = `Error: ${error.message}` // where it was noticed (the pool's module) says nothing
  return error
}

/**
 * Builds a pool that lives until the current scope closes.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ProcessPool } from "effect-process-pool"
 * import { countPrimes } from "./primes.ts"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const pool = yield* ProcessPool.make({ maxWorkers: 2 })
 *     return yield* pool.run(countPrimes, 1e6)
 *   })
 * )
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options?: Options): Effect.Effect<Service, never, Scope.Scope> =>
  Effect.withFiber((fiber) => {
    const unsupported = unsupportedHere()
    if (unsupported !== undefined) return Effect.die(unsupported)
    const nested = WorkerContext.nestedPoolRefusal(fiber.getRef(WorkerContext.JobId))
    if (nested !== undefined) return Effect.die(nested)
    const validated = Options_.poolOptions(options)
    return Result.isFailure(validated) ? Options_.illegal(validated.failure) : makeWith(validated.success)
  })

const makeWith = Effect.fnUntraced(function* (options: Engine.EngineOptions) {
  const scope = yield* Effect.scope
  // submitted fibers live in a scope of the pool's own; it is closed after the
  // engine has shut down (finalizers run in reverse order), so they have
  // already ended interrupted by then
  const fibers = yield* Scope.fork(scope)
  // the pool's own context: its metrics go to this context's registry, and
  // worker log entries that belong to no caller are logged with it
  const context = yield* Effect.context<never>()
  const engine = Engine.make(options, {
    metrics: Metrics.recorder(context),
    onLog: (caller, entry) => {
      const log = Effect.logWithLevel(entry.level as LogLevel.Severity)(...entry.message).pipe(
        Effect.annotateLogs(entry.annotations)
      )
      try {
        Effect.runForkWith((caller as Context.Context<never> | undefined) ?? context)(log)
      } catch {
        // the program's logger threw: the engine, which calls this, goes on
      }
    }
  })
  yield* Scope.addFinalizer(
    scope,
    Effect.callback<void>((resume) => engine.shutdown(() => resume(Effect.void)))
  )
  return ProcessPool.of(makeService(engine, () => options.maxWorkers, fibers))
})

/**
 * A layer that provides a pool, closed when the layer's scope closes.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ProcessPool } from "effect-process-pool"
 * import { countPrimes } from "./primes.ts"
 *
 * const program = ProcessPool.run(countPrimes, 1e6) // needs a ProcessPool
 * const main = program.pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 4 }))) // needs nothing
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options?: Options): Layer.Layer<ProcessPool> => Layer.effect(ProcessPool, make(options))

/**
 * Runs one task in a worker of the pool in the context and waits for it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ProcessPool } from "effect-process-pool"
 * import { countPrimes } from "./primes.ts"
 *
 * const program = Effect.gen(function* () {
 *   const n = yield* ProcessPool.run(countPrimes, 1e6)
 *   yield* Effect.log(`${n} primes up to a million`)
 * })
 * ```
 *
 * @category operations
 * @since 0.1.0
 */
export const run = <I, A, E>(
  task: Task<I, A, E>,
  payload: NoInfer<I>
): Effect.Effect<A, E | ProcessPoolError, ProcessPool> => usePool((pool) => pool.run(task, payload))

/**
 * Starts one task and returns its fiber at once; see `Service.submit`.
 *
 * @example
 * ```ts
 * import { Effect, Fiber } from "effect"
 * import { ProcessPool } from "effect-process-pool"
 * import { countPrimes } from "./primes.ts"
 *
 * const program = Effect.gen(function* () {
 *   const future = yield* ProcessPool.submit(countPrimes, 5e6) // runs while this fiber goes on
 *   yield* Effect.log("counting…")
 *   return yield* Fiber.join(future)
 * })
 * ```
 *
 * @category operations
 * @since 0.1.0
 */
export const submit = <I, A, E>(
  task: Task<I, A, E>,
  payload: NoInfer<I>
): Effect.Effect<Fiber.Fiber<A, E | ProcessPoolError>, never, ProcessPool> =>
  usePool((pool) => pool.submit(task, payload))

/**
 * Runs the task on every input, results in input order; see `Service.map`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ProcessPool } from "effect-process-pool"
 * import { countPrimes } from "./primes.ts"
 *
 * const program = Effect.gen(function* () {
 *   const counts = yield* ProcessPool.map(countPrimes, [1e6, 2e6, 3e6]) // [78498, 148933, 216816]
 *   yield* Effect.log(counts)
 * })
 * ```
 *
 * @category operations
 * @since 0.1.0
 */
export const map = <I, A, E>(
  task: Task<I, A, E>,
  inputs: Iterable<NoInfer<I>>,
  options?: MapOptions
): Effect.Effect<Array<A>, E | ProcessPoolError, ProcessPool> => usePool((pool) => pool.map(task, inputs, options))

/**
 * The results in input order, as a lazy `Stream`; see `Service.mapStream`.
 *
 * @example
 * ```ts
 * import { Stream } from "effect"
 * import { ProcessPool } from "effect-process-pool"
 * import { countPrimes } from "./primes.ts"
 *
 * const naturals = Stream.iterate(1, (n) => n + 1)
 * const firstTen = ProcessPool.mapStream(countPrimes, naturals).pipe(Stream.take(10), Stream.runCollect)
 * // succeeds with [0, 1, 2, 2, 3, 3, 4, 4, 4, 4], the counts for 1 to 10
 * ```
 *
 * @category operations
 * @since 0.1.0
 */
export const mapStream = <I, A, E, EI = never, RI = never>(
  task: Task<I, A, E>,
  inputs: Iterable<NoInfer<I>> | Stream.Stream<NoInfer<I>, EI, RI>,
  options?: StreamOptions
): Stream.Stream<A, E | ProcessPoolError | EI, RI | ProcessPool> =>
  Stream.unwrap(usePool((pool) => Effect.succeed(pool.mapStream(task, inputs, options))))

/**
 * One element per input in completion order; see `Service.asCompleted`.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { ProcessPool } from "effect-process-pool"
 * import { countPrimes } from "./primes.ts"
 *
 * // in completion order: with two workers or more, #1 (1e7) ends last
 * const program = ProcessPool.asCompleted(countPrimes, [1e5, 1e7, 1e3]).pipe(
 *   Stream.runForEach(({ index, input, exit }) => Effect.log(index, input, exit))
 * )
 * ```
 *
 * @category operations
 * @since 0.1.0
 */
export const asCompleted = <I, A, E, EI = never, RI = never>(
  task: Task<I, A, E>,
  inputs: Iterable<NoInfer<I>> | Stream.Stream<NoInfer<I>, EI, RI>,
  options?: StreamOptions
): Stream.Stream<Completed<I, A, E>, EI, RI | ProcessPool> =>
  Stream.unwrap(usePool((pool) => Effect.succeed(pool.asCompleted(task, inputs, options))))

/**
 * The elements of a streaming task, with back-pressure; see `Service.stream`.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { ProcessPool } from "effect-process-pool"
 * import { lines } from "./lines.ts"
 *
 * const program = ProcessPool.stream(lines, "one\ntwo\nthree").pipe(
 *   Stream.runForEach((line) => Effect.log(line))
 * )
 * ```
 *
 * @category operations
 * @since 0.3.0
 */
export const stream = <I, A, E>(
  task: StreamTask<I, A, E>,
  payload: NoInfer<I>,
  options?: StreamTaskOptions
): Stream.Stream<A, E | ProcessPoolError, ProcessPool> =>
  Stream.unwrap(usePool((pool) => Effect.succeed(pool.stream(task, payload, options))))

/**
 * A snapshot of the counters of the pool in the context.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ProcessPool } from "effect-process-pool"
 *
 * const program = Effect.gen(function* () {
 *   const { workers, busy, queued, completed } = yield* ProcessPool.stats
 *   yield* Effect.log(`${busy}/${workers} busy, ${queued} queued, ${completed} done`)
 * })
 * ```
 *
 * @category operations
 * @since 0.1.0
 */
export const stats: Effect.Effect<PoolStats, never, ProcessPool> = usePool((pool) => pool.stats)
