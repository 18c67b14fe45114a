/**
 * A task is a typed function that runs in a worker process.
 *
 * It is defined once, in a module that both the parent and the workers import:
 * the parent uses it to encode payloads and decode results, and a worker imports
 * `module` on first use (cached for the worker's life) and finds the task among
 * the module's exports by its `name` — as Python pickles a function by reference.
 * Payloads, results and typed errors cross the process boundary through the
 * task's Schemas, so typed errors arrive in the parent as instances of their
 * classes.
 *
 * @example
 * ```ts
 * // primes.ts
 * import { Effect, Schema } from "effect"
 * import { Task } from "effect-process-pool"
 *
 * export class TooLarge extends Schema.TaggedError<TooLarge>()("TooLarge", { n: Schema.Number }) {}
 *
 * // the work itself: plain, synchronous, CPU-bound
 * const count = (n: number): number => {
 *   let found = 0
 *   for (let i = 2; i <= n; i++) {
 *     let prime = true
 *     for (let d = 2; d * d <= i && prime; d++) prime = i % d !== 0
 *     if (prime) found++
 *   }
 *   return found
 * }
 *
 * export const countPrimes = Task.make("countPrimes", {
 *   module: import.meta.url,
 *   payload: Schema.Number,
 *   success: Schema.Number,
 *   error: TooLarge,
 *   run: (n) => (n > 1e9 ? Effect.fail(new TooLarge({ n })) : Effect.sync(() => count(n)))
 * })
 * ```
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Schema from "effect/Schema"
import type * as Stream from "effect/Stream"
import { validate } from "./internal/taskModule.ts"

/**
 * The property that marks a value as a task; `isTask` checks it.
 *
 * @example
 * ```ts
 * import { Task } from "effect-process-pool"
 * import { countPrimes } from "./primes.ts"
 *
 * Task.TypeId in countPrimes // true
 * ```
 *
 * @category type IDs
 * @since 0.1.0
 */
export const TypeId = "~effect-process-pool/Task" as const

/**
 * The type of `TypeId`.
 *
 * @example
 * ```ts
 * import type { Task } from "effect-process-pool"
 *
 * const id: Task.TypeId = "~effect-process-pool/Task"
 * ```
 *
 * @category type IDs
 * @since 0.1.0
 */
export type TypeId = typeof TypeId

/**
 * A Schema whose encoding and decoding need no services: what a task's
 * payload, success and error Schemas must be.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import type { Task } from "effect-process-pool"
 *
 * const payload: Task.Codec<{ readonly at: Date }> = Schema.Struct({ at: Schema.Date })
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type Codec<T> = Schema.Codec<T, any, never, never>

/**
 * A task taking `I`, succeeding with `A`, failing with `E`, and needing the
 * services `R` that no layer of the task provides yet. The pool accepts only
 * tasks with `R = never`.
 *
 * @example
 * ```ts
 * import type { Task } from "effect-process-pool"
 * import { countPrimes, type TooLarge } from "./primes.ts"
 *
 * // what Task.make returns for countPrimes: number → number, failing with TooLarge
 * const task: Task.Task<number, number, TooLarge> = countPrimes
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Task<in out I, in out A, in out E = never, out R = never> {
  readonly [TypeId]: {
    readonly _I: (_: I) => I
    readonly _A: (_: A) => A
    readonly _E: (_: E) => E
    readonly _R: (_: never) => R
  }
  /** The name the worker looks the task up by, among its module's exports. */
  readonly name: string
  /** The URL of the module that exports this task (`import.meta.url`). */
  readonly module: string
  readonly payload: Codec<I>
  readonly success: Codec<A>
  readonly error: Codec<E> | undefined
  readonly run: (payload: I) => Effect.Effect<A, E, any>
  /** Provides `run`'s services inside the worker; built once per worker. */
  readonly layer: Layer.Layer<any, E, never> | undefined
  /**
   * Tells this task apart from other exports of the same module with the same
   * name (a base task and its `Task.provide`d variant).
   */
  readonly key: string
}

/**
 * Any task, whatever its types. (Two members: `Task<any, any, any, any>` alone
 * does not accept a task without typed errors, as `any` is not assignable to
 * `never`.)
 *
 * @example
 * ```ts
 * import type { Task } from "effect-process-pool"
 *
 * const names = (tasks: ReadonlyArray<Task.Any>) => tasks.map((task) => task.name)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type Any = Task<any, any, any, any> | Task<any, any, never, any>

/**
 * Whether a value is a task of `make` (not a streaming one: see `isStreamTask`); workers use both to find tasks among a module's exports.
 *
 * @example
 * ```ts
 * import { Task } from "effect-process-pool"
 *
 * const tasks = Object.values(await import("./primes.ts")).filter(Task.isTask)
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isTask = (u: unknown): u is Any =>
  typeof u === "object" && u !== null && TypeId in u && (u as { kind?: unknown }).kind !== STREAM

/** The kind tag of a streaming task (`makeStream`); a plain task has none. */
const STREAM = "stream"

const variance = { _I: (_: any) => _, _A: (_: any) => _, _E: (_: any) => _, _R: (_: never) => _ }

/**
 * Defines a task.
 *
 * - `module`: the URL of the module that exports this task, almost always
 *   `import.meta.url`. The task must be exported from that module.
 * - `payload`, `success`, `error`: the Schemas its values cross the process
 *   boundary with. `error` is optional; without it the task has no typed errors.
 * - `run`: the Effect to run in the worker for one payload.
 * - `layer`: provides `run`'s services inside the worker. It is built once per
 *   worker on first use, shared by every task that uses the same layer value,
 *   and released (its finalizers run) when the worker shuts down — the typed,
 *   scoped form of Python's `initializer`. If it fails to build, the task fails
 *   with the layer's error and the next task that needs it tries again.
 *
 * @example
 * ```ts
 * // square.ts
 * import { Effect, Schema } from "effect"
 * import { Task } from "effect-process-pool"
 *
 * export const square = Task.make("square", {
 *   module: import.meta.url,
 *   payload: Schema.Number,
 *   success: Schema.Number,
 *   run: (n) => Effect.succeed(n * n)
 * })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = <
  Payload extends Codec<any>,
  Success extends Codec<any>,
  Error extends Codec<any> = Schema.Never,
  R = never,
  ROut = never
>(
  name: string,
  options: {
    readonly module: string
    readonly payload: Payload
    readonly success: Success
    readonly error?: Error | undefined
    readonly run: (payload: Payload["Type"]) => Effect.Effect<Success["Type"], Error["Type"], R>
    readonly layer?: Layer.Layer<ROut, Error["Type"], never> | undefined
  }
): Task<Payload["Type"], Success["Type"], Error["Type"], Exclude<R, ROut>> => {
  validate("Task.make", name, options?.module)
  return {
    [TypeId]: variance,
    name,
    module: options.module,
    payload: options.payload,
    success: options.success,
    error: options.error,
    run: options.run,
    layer: options.layer,
    key: name
  } as any
}

/**
 * Gives a task the services its `run` needs, with a layer that is built once per
 * worker. The result must be exported from the task's module (a task changed
 * only in the parent is not the one a worker finds); a worker finds it by the
 * base task's name.
 *
 * @example
 * ```ts
 * import { Context, Effect, Layer, Schema } from "effect"
 * import { Task } from "effect-process-pool"
 *
 * class Salt extends Context.Service<Salt, string>()("Salt") {}
 *
 * const base = Task.make("hash", {
 *   module: import.meta.url,
 *   payload: Schema.String,
 *   success: Schema.String,
 *   run: (s) => Effect.map(Effect.service(Salt), (salt) => salt + s)
 * })
 * export const hash = Task.provide(base, Layer.succeed(Salt, "pepper"))
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const provide: {
  <I, A, E, R, ROut>(self: Task<I, A, E, R>, layer: Layer.Layer<ROut, E, never>): Task<I, A, E, Exclude<R, ROut>>
  <I, A, E, R, ROut>(
    self: StreamTask<I, A, E, R>,
    layer: Layer.Layer<ROut, E, never>
  ): StreamTask<I, A, E, Exclude<R, ROut>>
} = (self: Any | AnyStream, layer: Layer.Layer<any, any, never>): any => ({
  ...self,
  layer: self.layer === undefined ? layer : Layer.merge(self.layer, layer),
  key: `${self.key}+`
})

/**
 * A streaming task: it takes `I` and emits many `A`s over time, failing with
 * `E`. Each element crosses the boundary through `element` as it is emitted;
 * `ProcessPool.stream` runs it, and the pool refuses it in `run`, `submit` and
 * `map` (its type does not fit them, and a cast one dies there).
 *
 * @example
 * ```ts
 * import type { Task } from "effect-process-pool"
 * import { lines } from "./lines.ts"
 *
 * // what Task.makeStream returns for lines: a path → its lines
 * const task: Task.StreamTask<string, string> = lines
 * ```
 *
 * @category models
 * @since 0.3.0
 */
export interface StreamTask<in out I, in out A, in out E = never, out R = never> {
  readonly [TypeId]: Task<I, A, E, R>[TypeId]
  /** what tells it from a plain task, for the pool and the workers */
  readonly kind: typeof STREAM
  readonly name: string
  readonly module: string
  readonly payload: Codec<I>
  /** the Schema of one element */
  readonly element: Codec<A>
  readonly error: Codec<E> | undefined
  readonly run: (payload: I) => Stream.Stream<A, E, any>
  readonly layer: Layer.Layer<any, E, never> | undefined
  readonly key: string
}

/**
 * Any streaming task, whatever its types.
 *
 * @example
 * ```ts
 * import type { Task } from "effect-process-pool"
 *
 * const names = (tasks: ReadonlyArray<Task.AnyStream>) => tasks.map((task) => task.name)
 * ```
 *
 * @category models
 * @since 0.3.0
 */
export type AnyStream = StreamTask<any, any, any, any> | StreamTask<any, any, never, any>

/**
 * Whether a value is a streaming task (`makeStream`).
 *
 * @example
 * ```ts
 * import { Task } from "effect-process-pool"
 * import { lines } from "./lines.ts"
 *
 * Task.isStreamTask(lines) // true
 * ```
 *
 * @category guards
 * @since 0.3.0
 */
export const isStreamTask = (u: unknown): u is AnyStream =>
  typeof u === "object" && u !== null && TypeId in u && (u as { kind?: unknown }).kind === STREAM

/**
 * Defines a streaming task: `run` returns a `Stream`, whose elements reach the
 * caller of `ProcessPool.stream` one by one, each through `element`, as the
 * worker emits them. The worker runs ahead of the caller by at most the
 * stream's `bufferSize` elements; the caller stopping interrupts the stream in
 * its worker (its finalizers run there). `module`, `payload`, `error` and
 * `layer` are as for `make`.
 *
 * @example
 * ```ts
 * // lines.ts
 * import { Schema, Stream } from "effect"
 * import { Task } from "effect-process-pool"
 *
 * export const lines = Task.makeStream("lines", {
 *   module: import.meta.url,
 *   payload: Schema.String,
 *   element: Schema.String,
 *   run: (text) => Stream.fromIterable(text.split("\n"))
 * })
 * ```
 *
 * @category constructors
 * @since 0.3.0
 */
export const makeStream = <
  Payload extends Codec<any>,
  Element extends Codec<any>,
  Error extends Codec<any> = Schema.Never,
  R = never,
  ROut = never
>(
  name: string,
  options: {
    readonly module: string
    readonly payload: Payload
    readonly element: Element
    readonly error?: Error | undefined
    readonly run: (payload: Payload["Type"]) => Stream.Stream<Element["Type"], Error["Type"], R>
    readonly layer?: Layer.Layer<ROut, Error["Type"], never> | undefined
  }
): StreamTask<Payload["Type"], Element["Type"], Error["Type"], Exclude<R, ROut>> => {
  validate("Task.makeStream", name, options?.module)
  return {
    [TypeId]: variance,
    kind: STREAM,
    name,
    module: options.module,
    payload: options.payload,
    element: options.element,
    error: options.error,
    run: options.run,
    layer: options.layer,
    key: name
  } as any
}
