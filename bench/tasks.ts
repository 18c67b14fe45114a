/**
 * Tasks for the benchmarks and the soak. The work itself is in
 * `peers/work.ts`, shared with every peer's worker.
 *
 * A task module is what every worker imports: its imports are deep
 * (`effect/Effect`, `effect-process-pool/Task`) so that a worker loads what
 * the tasks use, not the `effect` barrel nor the pool's parent side (README,
 * "Lean workers").
 */
import * as NodeFs from "node:fs"
import * as NodeWorkerThreads from "node:worker_threads"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Task from "effect-process-pool/Task"
import { countPrimes, spin as spinFor } from "./peers/work.ts"

/** n → [n², the worker's pid]: the soak learns from the answers which workers are up */
export const squarePid = Task.make("squarePid", {
  module: import.meta.url,
  payload: Schema.Number,
  success: Schema.Tuple([Schema.Number, Schema.Number]),
  run: (n) => Effect.succeed([n * n, process.pid] as const)
})

/**
 * [n, size] → [n², the worker's pid, `size` bytes of padding], after
 * appending n to the file `SOAK_COUNTER` names: the soak counts each input's
 * runs from the workers' side, where a crash cannot hide one.
 */
export const countedSquare = Task.make("countedSquare", {
  module: import.meta.url,
  payload: Schema.Tuple([Schema.Number, Schema.Number]),
  success: Schema.Tuple([Schema.Number, Schema.Number, Schema.String]),
  run: ([n, size]) =>
    Effect.sync(() => {
      NodeFs.appendFileSync(process.env.SOAK_COUNTER!, `${n}\n`)
      return [n * n, process.pid, "x".repeat(size)] as const
    })
})

/** The tiny task: n → n². */
export const square = Task.make("square", {
  module: import.meta.url,
  payload: Schema.Number,
  success: Schema.Number,
  run: (n) => Effect.succeed(n * n)
})

/** The CPU-bound task: the number of primes below `limit` (calibrated to about 100 ms). */
export const burn = Task.make("burn", {
  module: import.meta.url,
  payload: Schema.Number,
  success: Schema.Number,
  run: (limit) => Effect.sync(() => countPrimes(limit))
})

/** Sleeps `ms` milliseconds (asynchronously: it leaves the CPU to others). */
export const nap = Task.make("nap", {
  module: import.meta.url,
  payload: Schema.Number,
  success: Schema.Number,
  run: (ms) => Effect.sleep(ms).pipe(Effect.as(ms))
})

/** Busy in a synchronous loop for `ms` milliseconds: it cannot honour interruption. */
export const spin = Task.make("spin", {
  module: import.meta.url,
  payload: Schema.Number,
  success: Schema.Number,
  run: (ms) => Effect.sync(() => spinFor(ms))
})

/**
 * Asleep `ms` milliseconds, then the worker's thread id (0 in a worker
 * process): which thread served it, without running hot code in it (a busy
 * loop would have V8 optimise it, and its idle memory would hold that).
 */
export const napThreadId = Task.make("napThreadId", {
  module: import.meta.url,
  payload: Schema.Number,
  success: Schema.Number,
  run: (ms) => Effect.sleep(ms).pipe(Effect.as(NodeWorkerThreads.threadId))
})

/** Bytes → the same bytes: a round trip of a payload, for the cost of carrying it (workload 7 of bench/bench.ts). */
export const echoBytes = Task.make("echoBytes", {
  module: import.meta.url,
  payload: Schema.Uint8Array,
  success: Schema.Uint8Array,
  run: (bytes) => Effect.succeed(bytes)
})
