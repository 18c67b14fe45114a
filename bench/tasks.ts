/**
 * Tasks for the benchmarks and the soak.
 */
import { Effect, Schema } from "effect"
import { Task } from "effect-process-pool"

/** n → [n², the worker's pid]: the soak learns from the answers which workers are up */
export const squarePid = Task.make("squarePid", {
  module: import.meta.url,
  payload: Schema.Number,
  success: Schema.Tuple([Schema.Number, Schema.Number]),
  run: (n) => Effect.succeed([n * n, process.pid] as const)
})
