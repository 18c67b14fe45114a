/** piscina (worker threads): `minThreads` = `maxThreads` = the pool size; cancellation by AbortSignal. */
import { Piscina } from "piscina"
import type { Open } from "./promisePool.ts"

const filename = new URL("../peers/fnWorker.ts", import.meta.url).href

export const open: Open = (config) => {
  const pool = new Piscina({ filename, minThreads: config.workers, maxThreads: config.workers })
  return {
    run: (name, arg, signal) => pool.run(arg, signal === undefined ? { name } : { name, signal }),
    close: () => pool.destroy()
  }
}
