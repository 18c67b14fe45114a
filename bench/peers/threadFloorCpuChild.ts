/**
 * The thread floor for the CPU-bound and interruption workloads: a bare worker
 * thread, no framework, that runs `[name, argument]` messages synchronously
 * and answers with the result (bench/peers/floorCpuChild.ts for a forked child).
 */
import { parentPort } from "node:worker_threads"
import { countPrimes, spin, square } from "./work.ts"

const port = parentPort!
port.on("message", (m: unknown) => {
  const [name, arg] = m as readonly [string, number]
  port.postMessage(name === "countPrimes" ? countPrimes(arg) : name === "spin" ? spin(arg) : square(arg))
})
