/**
 * workerpool with `workerType: "process"`: one forked process per worker;
 * a running task is cancelled with the returned promise's `cancel()`.
 */
import * as NodeUrl from "node:url"
import workerpool from "workerpool"
import type { Open } from "./promisePool.ts"

const script = NodeUrl.fileURLToPath(new URL("../peers/workerpoolWorker.ts", import.meta.url))

export const open: Open = (config) => {
  const pool = workerpool.pool(script, {
    workerType: "process",
    minWorkers: config.workers,
    maxWorkers: config.workers
  })
  return {
    run: (name, arg, signal) => {
      const promise = pool.exec(name, [arg])
      signal?.addEventListener(
        "abort",
        () => {
          // cancel() rejects the task at once; in one run out of several it also threw its
          // CancellationError from this listener, after the rejection: that is not a failure here
          try {
            promise.cancel()
          } catch (error) {
            if ((error as Error)?.name !== "CancellationError") throw error
          }
        },
        { once: true }
      )
      return promise as unknown as Promise<unknown>
    },
    close: () => pool.terminate(true) as unknown as Promise<void>
  }
}
