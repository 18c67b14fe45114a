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
import { isExactJsonNumber } from "../codecFastPaths.ts"
import { stringify } from "../jsonText.ts"
import { JSONParse, uncurryThis } from "../primordials.ts"
import { DONE, THREAD_DATA_KEY, type ThreadData } from "../protocol.ts"
import type { Transport } from "./transport.ts"

// taken before any task runs (see ../primordials.ts)
const postMessage = uncurryThis(NodeWorkerThreads.MessagePort.prototype.postMessage)
const heapStatistics = NodeV8.getHeapStatistics
const exitThread = uncurryThis(process.exit)

/**
 * How a batch of answers crosses, when it takes the ring: `Done`s of numbers
 * only, at most `AnswerRing.MAX_NUMBERS` of them, as numbers; answers whose
 * values JSON carries exactly (numbers, short strings), at most
 * `AnswerRing.MAX_VALUES` of them, as JSON text; anything else takes the
 * port (`undefined`). The numbers are those JSON would carry too
 * (`isExactJsonNumber`): a thread's answers are the values a process's are.
 */
export const ringFits = (batch: ReadonlyArray<any>): "numbers" | "text" | undefined => {
  let values = 0
  let numbers = true
  for (let i = 0; i < batch.length; i++) {
    const record = batch[i]
    if (record[0] !== DONE) return undefined
    const answers = record[2]
    values += answers.length
    for (let j = 0; j < answers.length; j++) {
      const answer = answers[j]
      if (numbers && isExactJsonNumber(answer)) continue
      numbers = false
      if (values > AnswerRing.MAX_VALUES || !AnswerRing.carriesAsText(answer)) return undefined
    }
  }
  if (numbers) return values <= AnswerRing.MAX_NUMBERS ? "numbers" : undefined
  return values <= AnswerRing.MAX_VALUES ? "text" : undefined
}

export const make = (data: ThreadData): Transport => {
  const port = data.port
  const ring = AnswerRing.make(data.ring)
  const write = (batch: ReadonlyArray<any>): AnswerRing.Written => {
    const fits = ringFits(batch)
    if (fits === "numbers") return AnswerRing.writeNumbers(ring, batch)
    // JSON text as the pool writes it whatever a task did to the globals (see `../jsonText.ts`)
    const text = fits === "text" ? stringify(batch) : undefined
    return text === undefined ? "full" : AnswerRing.writeText(ring, text)
  }
  const send = (batch: ReadonlyArray<any>) => {
    const written = write(batch)
    if (written === "wake") return postMessage(port, AnswerRing.written(ring))
    if (written === "written") return
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
