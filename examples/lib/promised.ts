/**
 * The bridge from Promise code to the pool (README, "Calling the pool from
 * Promise code"): a task as an async function of its payload that takes an
 * `AbortSignal`.
 */
import { Cause, Exit, type ManagedRuntime } from "effect"
import { ProcessPool, type Task } from "effect-process-pool"

/**
 * `task` as an async function, run on the pool that `runtime` holds. A typed
 * failure rejects with the task's error; an aborted call interrupts the task
 * in its worker and rejects with the signal's reason once the task has stopped.
 */
export const promised =
  <ER>(runtime: ManagedRuntime.ManagedRuntime<ProcessPool.ProcessPool, ER>) =>
  <I, A, E>(task: Task.Task<I, A, E>) =>
  (payload: I, options?: { readonly signal?: AbortSignal }): Promise<A> =>
    runtime.runPromiseExit(ProcessPool.run(task, payload), { signal: options?.signal }).then((exit) => {
      if (Exit.isSuccess(exit)) return exit.value
      // an abort interrupts the call: reject with why it stopped, not with "All fibers interrupted"
      if (options?.signal?.aborted && Cause.hasInterruptsOnly(exit.cause)) throw options.signal.reason
      throw Cause.squash(exit.cause)
    })
