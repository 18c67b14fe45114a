/**
 * The Python article's task functions, as tasks. A task module is imported by
 * the parent (for the Schemas) and by every worker (to run `run`): its imports
 * are deep, so that a worker loads only what the tasks use (README, "Lean task
 * modules").
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Task from "effect-process-pool/Task"

/**
 * `def heavy(n): return sum(i * i for i in range(n))` — exact, as in Python:
 * the sum outgrows a double, so it is a bigint, which crosses the process
 * boundary through `Schema.BigInt`.
 */
export const heavy = Task.make("heavy", {
  module: import.meta.url,
  payload: Schema.Number,
  success: Schema.BigInt,
  run: (n) =>
    Effect.sync(() => {
      let sum = 0n
      for (let i = 0n; i < BigInt(n); i++) sum += i * i
      return sum
    })
})

/** Python's `ValueError`, as a typed error that crosses the boundary. */
export class ValueError extends Schema.TaggedError<ValueError>()("ValueError", { message: Schema.String }) {}

/** `def may_fail(n): if n == 3: raise ValueError(f"n={n} error"); return n * n` */
export const mayFail = Task.make("mayFail", {
  module: import.meta.url,
  payload: Schema.Number,
  success: Schema.Number,
  error: ValueError,
  run: (n) => (n === 3 ? Effect.fail(new ValueError({ message: `n=${n} error` })) : Effect.succeed(n * n))
})

/** `def square(n): return n * n` */
export const square = Task.make("square", {
  module: import.meta.url,
  payload: Schema.Number,
  success: Schema.Number,
  run: (n) => Effect.succeed(n * n)
})
