/**
 * The entry of a worker thread (see `workerThread.ts`): it loads the worker's
 * runtime (`worker/runtime.ts`, the same as a worker process's) and starts it
 * on the thread transport. Unlike a process's entry (`workerMain.ts`) it
 * changes nothing process-wide: no V8 tiering flags, no signal handler, both
 * of which would reach the parent's own thread. The module compile cache is
 * the thread's own and is on before this module loads (the bootstrap in
 * `workerThread.ts`).
 *
 * @internal
 */
import * as NodeWorkerThreads from "node:worker_threads"
import { THREAD_DATA_KEY, type ThreadData } from "./protocol.ts"

const data = (NodeWorkerThreads.workerData as Record<string, ThreadData> | null)?.[THREAD_DATA_KEY]
if (NodeWorkerThreads.isMainThread || data === undefined) {
  throw new Error("effect-process-pool: this is the entry of a pool's worker thread; it runs only under one")
}
const [Runtime, Transport] = await Promise.all([import("./worker/runtime.ts"), import("./worker/threadTransport.ts")])
Runtime.start(Transport.make(data))
