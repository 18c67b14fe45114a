/**
 * The thread floor: a bare worker thread that answers each message on
 * `parentPort` at once, with no framework (bench/floorChild.ts is the same for
 * a forked child). A number → its square, an array → the squares, a
 * `Uint8Array` → itself (workload 7: posted back, a structured clone each way).
 *
 * Plain JavaScript, not TypeScript: a thread whose first module is TypeScript
 * loads Node's type stripper (amaro, ~10 MB of WebAssembly per isolate, and
 * tens of ms), which is the cost of this benchmark being written in
 * TypeScript, not of a thread. The floor is a thread without it.
 */
import { parentPort } from "node:worker_threads"

const port = parentPort
port.on("message", (m) => {
  if (typeof m === "number") port.postMessage(m * m)
  else if (Array.isArray(m)) port.postMessage(m.map((x) => x * x))
  else port.postMessage(m)
})
