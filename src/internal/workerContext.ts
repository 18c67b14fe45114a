/**
 * What code in a worker process can learn of the worker it runs in: the job
 * a fiber works for (`JobId`, in the context of every fiber of a job: its
 * inputs and its task's layer), and the worker's hooks, present only in a
 * worker. Both are found by key, not by module identity, so that a task
 * module that loads another copy of this library (`dist/` where the worker
 * runs `src/`) still sees them.
 *
 * @internal
 */
import * as Context from "effect/Context"

/** The job a fiber works for; -1 outside any job (a module's top-level code, a timer of its own). */
export const JobId = Context.Reference<number>("effect-process-pool/JobId", { defaultValue: () => -1 })

/** What a worker's runtime offers the code that runs in it. */
export interface WorkerHooks {
  /**
   * A pool is being built outside any job: by a task module's top-level
   * code, while the worker imports it. The job loading that module fails.
   */
  readonly nestedPool: (error: Error) => void
}

const KEY = Symbol.for("effect-process-pool/worker")

export const register = (hooks: WorkerHooks): void => {
  ;(globalThis as Record<symbol, unknown>)[KEY] = hooks
}

/** The worker's hooks, when this process is a pool's worker. */
export const hooks = (): WorkerHooks | undefined =>
  (globalThis as Record<symbol, unknown>)[KEY] as WorkerHooks | undefined

/**
 * Why a pool may not be built here, if it may not: in a worker, only a task
 * (its `run`, or its layer) builds a pool. A pool built by a module's
 * top-level code is, almost always, the parent's own program run again: the
 * worker imported the task's module, and the module also runs the program —
 * Python's `spawn` without `if __name__ == "__main__":` — and every level of
 * workers would start a pool of its own.
 */
export const nestedPoolRefusal = (jobId: number): Error | undefined => {
  const worker = hooks()
  if (worker === undefined || jobId !== -1) return undefined
  const error = new Error(
    "A process pool is being built in a worker of another pool, outside any task: the module of a task also " +
      "runs a program that builds a pool, and every worker that imports the module would run it again. Keep the " +
      "program in a module of its own, or run it only when its module is the entry point (`if (import.meta.main)` in " +
      'an ES module, Python\'s `if __name__ == "__main__":`). A pool built inside a task (in its `run` or its layer) ' +
      "is fine."
  )
  error.name = "NestedPoolError"
  worker.nestedPool(error)
  return error
}
