/**
 * The main job's task: count the primes in a range of integers, by trial
 * division — plain CPU-bound work, the kind a process pool is for.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Task from "effect-process-pool/Task"

/** A half-open range of integers, `[from, to)`. */
export const Range = Schema.Struct({ from: Schema.Number, to: Schema.Number })
export type Range = typeof Range.Type

/** How many primes lie in `[from, to)`: the computation itself, usable in any process. */
export const primesIn = ({ from, to }: Range): number => {
  let count = 0
  for (let n = Math.max(2, from); n < to; n++) {
    let prime = true
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false
        break
      }
    }
    if (prime) count++
  }
  return count
}

export const countPrimes = Task.make("countPrimes", {
  module: import.meta.url,
  payload: Range,
  success: Schema.Number,
  run: (range) => Effect.sync(() => primesIn(range))
})
