/**
 * The transport of a worker thread (see `transport.ts`): the pool's own
 * `MessagePort`, taken out of `workerData` before any task runs, so that a
 * task cannot reach it (it reaches `parentPort`, which the parent does not
 * read). `postMessage` hands a batch over at once (a structured clone, or an
 * error for what cannot be cloned), and what was posted reaches the parent
 * even if the thread ends right after. The thread's memory is its own heap
 * (`v8.getHeapStatistics` is per isolate); the process's RSS would be every
 * thread's and the parent's.
 *
 * @internal
 */
import * as NodeV8 from "node:v8"
import * as NodeWorkerThreads from "node:worker_threads"
import { uncurryThis } from "../primordials.ts"
import { THREAD_DATA_KEY, type ThreadData } from "../protocol.ts"
import type { Transport } from "./transport.ts"

// taken before any task runs (see ../primordials.ts)
const postMessage = uncurryThis(NodeWorkerThreads.MessagePort.prototype.postMessage)
const heapStatistics = NodeV8.getHeapStatistics
const exitThread = uncurryThis(process.exit)

export const make = (data: ThreadData): Transport => {
  const port = data.port
  const workerData = NodeWorkerThreads.workerData as Record<string, unknown>
  delete workerData[THREAD_DATA_KEY]
  return {
    workerId: data.id,
    attributes: { "worker.thread": NodeWorkerThreads.threadId },
    maxMemory: data.maxMemory,
    memory: () => heapStatistics().used_heap_size,
    wire: data.wire,
    listen: (onBatch, onGone) => {
      port.on("message", (batch: ReadonlyArray<never>) => onBatch(batch))
      port.on("close", onGone)
    },
    send: (batch) => postMessage(port, batch),
    exit: (code) => exitThread(process, code) as never
  }
}
