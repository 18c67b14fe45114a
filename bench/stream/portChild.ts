/**
 * The thread floor: a bare worker thread that posts `count` elements on
 * `parentPort` in batches of `FLOOR_BATCH` (structured clones). No framework,
 * and no back-pressure: `postMessage` queues without bound.
 */
import { parentPort, workerData } from "node:worker_threads"
import { element, FLOOR_BATCH } from "./elements.ts"

const count = workerData as number
let i = 0
while (i < count) {
  const batch = []
  for (let j = 0; j < FLOOR_BATCH && i < count; j++) batch.push(element(i++))
  parentPort!.postMessage(batch)
}
parentPort!.postMessage(null)
