/** tinypool with `runtime: "child_process"`: one process per worker; cancellation by AbortSignal. */
import Tinypool from "tinypool"
import type { Open } from "./promisePool.ts"

const filename = new URL("../peers/fnWorker.ts", import.meta.url).href

export const open: Open = (config) => {
  const pool = new Tinypool({
    filename,
    runtime: "child_process",
    minThreads: config.workers,
    maxThreads: config.workers
  })
  return {
    run: (name, arg, signal) => pool.run(arg, signal === undefined ? { name } : { name, signal }),
    close: () => pool.destroy()
  }
}
