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
import * as AnswerRing from "../answerRing.ts"
import { stringify } from "../jsonText.ts"
import { JSONParse, uncurryThis } from "../primordials.ts"
import { DONE, THREAD_DATA_KEY, type ThreadData } from "../protocol.ts"
import type { Transport } from "./transport.ts"

// taken before any task runs (see ../primordials.ts)
const postMessage = uncurryThis(NodeWorkerThreads.MessagePort.prototype.postMessage)
const heapStatistics = NodeV8.getHeapStatistics
const exitThread = uncurryThis(process.exit)

/**
 * Answers whose values JSON carries exactly (numbers, short strings), at most
 * `AnswerRing.MAX_VALUES` of them: the ring's; anything else takes the port.
 */
export const ringFits = (batch: ReadonlyArray<any>): boolean => {
  let values = 0
  for (let i = 0; i < batch.length; i++) {
    const record = batch[i]
    if (record[0] !== DONE) return false
    const answers = record[2]
    if ((values += answers.length) > AnswerRing.MAX_VALUES) return false
    for (let j = 0; j < answers.length; j++) if (!AnswerRing.carriesAsText(answers[j])) return false
  }
  return true
}

export const make = (data: ThreadData): Transport => {
  const port = data.port
  const ring = AnswerRing.make(data.ring)
  const send = (batch: ReadonlyArray<any>) => {
    // JSON text as the pool writes it whatever a task did to the globals (see `../jsonText.ts`)
    const text = ringFits(batch) ? stringify(batch) : undefined
    if (text !== undefined) {
      const written = AnswerRing.write(ring, `${text},`)
      if (written === "wake") return postMessage(port, AnswerRing.written(ring))
      if (written === "written") return
    }
    // what was written to the ring before this batch is read before it
    postMessage(port, [AnswerRing.written(ring), batch])
  }
  const workerData = NodeWorkerThreads.workerData as Record<string, unknown>
  delete workerData[THREAD_DATA_KEY]
  return {
    workerId: data.id,
    attributes: { "worker.thread": NodeWorkerThreads.threadId },
    maxMemory: data.maxMemory,
    memory: () => heapStatistics().used_heap_size,
    wire: data.wire,
    listen: (onBatch, onGone) => {
      // the pool's own batches: JSON text when they fit it (see `../workerThread.ts`), a clone otherwise
      port.on("message", (batch: string | ReadonlyArray<never>) =>
        onBatch(typeof batch === "string" ? JSONParse(batch) : batch)
      )
      port.on("close", onGone)
    },
    send,
    exit: (code) => exitThread(process, code) as never
  }
}
