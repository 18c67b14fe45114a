/**
 * The thread floor: a bare worker thread that answers each message on
 * `parentPort` at once, with no framework (bench/floorChild.ts is the same for
 * a forked child). A number → its square, an array → the squares, a
 * `Uint8Array` → itself (workload 7: posted back, a structured clone each way).
 */
import { parentPort } from "node:worker_threads"

const port = parentPort!
port.on("message", (m: unknown) => {
  if (typeof m === "number") port.postMessage(m * m)
  else if (Array.isArray(m)) port.postMessage(m.map((x: number) => x * x))
  else port.postMessage(m)
})
