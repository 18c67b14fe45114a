/**
 * Loading a task in a worker: the references the parent defines, the task
 * modules imported on first use (cached for the worker's life), the task
 * found among a module's exports by its name, and the task layers built once
 * per worker and shared by the tasks that use the same layer value.
 *
 * @internal
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import { type Any as AnyPlainTask, type AnyStream, isStreamTask, isTask } from "../../Task.ts"
import { ArrayPrototypeSome, ObjectValues, PromisePrototypeThen } from "../primordials.ts"
import type * as P from "../protocol.ts"
import * as Execution from "./execution.ts"

export interface TaskRef {
  readonly module: string
  readonly key: string
  readonly name: string
  task: AnyTask | undefined
  /** LOADED was sent for it */
  loaded: boolean
}

export interface Loader {
  readonly refs: Map<number, TaskRef>
  readonly modules: Map<string, Promise<Record<string, unknown>>>
  readonly layers: Map<Layer.Layer<any, any, never>, Context.Context<any>>
  /** the scope of every layer built: closed when the worker shuts down */
  readonly scope: Scope.Closeable
}

export const make = (): Loader => ({
  refs: new Map(),
  modules: new Map(),
  layers: new Map(),
  scope: Scope.makeUnsafe()
})

export const emptyContext = Context.empty() as Context.Context<any>

export const define = (loader: Loader, message: P.Define): void => {
  loader.refs.set(message[1], { module: message[2], key: message[3], name: message[4], task: undefined, loaded: false })
}

const rethrow = (error: unknown): never => {
  throw error
}

/** A module's exports, once it and, for a module with a streaming task, the streams' runner are loaded. */
export const importModule = (loader: Loader, url: string): Promise<Record<string, unknown>> => {
  let loading = loader.modules.get(url)
  if (loading === undefined) {
    const imported: Promise<Record<string, unknown>> = import(url)
    loading = PromisePrototypeThen(
      imported,
      (exports) =>
        Execution.streamsLoaded() || !ArrayPrototypeSome(ObjectValues(exports), isStreamTask)
          ? exports
          : PromisePrototypeThen(Execution.loadStreams(), () => exports, rethrow),
      rethrow
    ) as Promise<Record<string, unknown>>
    loader.modules.set(url, loading)
  }
  return loading
}

/** What a worker runs: a task, or a streaming task. */
export type AnyTask = AnyPlainTask | AnyStream

const isAnyTask = (u: unknown): u is AnyTask => isTask(u) || isStreamTask(u)

/** The task of `ref` among a module's exports, or why it is not there. */
export const findTask = (exports: Record<string, unknown>, ref: TaskRef): AnyTask | string => {
  const named: Array<AnyTask> = []
  for (const value of Object.values(exports)) {
    if (!isAnyTask(value) || value.name !== ref.name) continue
    if (value.key === ref.key) return value
    named.push(value)
  }
  if (named.length > 0) {
    return `Module ${ref.module} exports a task named "${ref.name}", but not the variant the pool was given: export the task exactly as it is passed to the pool (Task.provide returns a new task that must be exported too)`
  }
  const names = Object.values(exports)
    .filter(isAnyTask)
    .map((task) => `"${task.name}"`)
  return `Module ${ref.module} exports no task named "${ref.name}"${names.length > 0 ? ` (it exports ${names.join(", ")})` : ""}`
}

/** The services of a layer built before, if it was. */
export const built = (loader: Loader, layer: Layer.Layer<any, any, never>): Context.Context<any> | undefined =>
  loader.layers.get(layer)

/**
 * Builds a task's layer in a fiber (in `context`: the job's loggers) and
 * answers the fiber. Built, it is kept for the worker's life; a failed build
 * releases what it acquired, and the next job that needs it tries again.
 */
export const build = (
  loader: Loader,
  layer: Layer.Layer<any, any, never>,
  context: Context.Context<any>
): Fiber.Fiber<Context.Context<any>, unknown> => {
  const scope = Scope.forkUnsafe(loader.scope)
  const fiber = Effect.runForkWith(context)(Layer.buildWithScope(layer, scope))
  fiber.addObserver((exit) => {
    if (Exit.isSuccess(exit)) loader.layers.set(layer, exit.value)
    else Effect.runFork(Scope.close(scope, exit))
  })
  return fiber
}

/** Releases every layer built (their finalizers run). */
export const release = (loader: Loader): Promise<void> => Effect.runPromise(Scope.close(loader.scope, Exit.void))
