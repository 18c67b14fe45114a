/**
 * Tasks for the examples that show one idea each: cancellation, a worker
 * crash, a task layer (Python's `initializer`), logging from a worker, and
 * work that honours an interruption.
 */
import * as NodeCrypto from "node:crypto"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Task from "effect-process-pool/Task"
import { primesIn, Range } from "./primes.ts"

// how long an interruption may wait for a slice: 50,000 integers take about 10 ms near 10^6, 0.2 s near 5·10^8
const SLICE = 50_000

/** Busy in a synchronous loop for `ms`: nothing inside the worker can interrupt it. */
export const runaway = Task.make("runaway", {
  module: import.meta.url,
  payload: Schema.Number,
  success: Schema.Number,
  run: (ms) =>
    Effect.sync(() => {
      const end = Date.now() + ms
      let spins = 0
      while (Date.now() < end) spins++
      return spins
    })
})

/** Answers n², except for 3, where the worker process dies (as a native crash would). */
export const fragile = Task.make("fragile", {
  module: import.meta.url,
  payload: Schema.Number,
  success: Schema.Number,
  run: (n) => (n === 3 ? Effect.sync(() => process.exit(70)) : Effect.succeed(n * n))
})

/**
 * A service each worker builds once, like state a Python `initializer` would
 * set up: here a hashing key. Its release runs when the worker shuts down.
 */
export class Hasher extends Context.Service<Hasher, { readonly hash: (text: string) => string }>()("example/Hasher") {}

const HasherLive = Layer.effect(
  Hasher,
  Effect.acquireRelease(
    Effect.gen(function* () {
      yield* Effect.log("building the hasher (once in this worker)")
      const key = NodeCrypto.createHash("sha256").update("example key").digest()
      return { hash: (text: string) => NodeCrypto.createHmac("sha256", key).update(text).digest("hex").slice(0, 16) }
    }),
    () => Effect.log("releasing the hasher")
  )
)

/** Hashes a text with the worker's Hasher, built by the task's layer. */
export const hash = Task.make("hash", {
  module: import.meta.url,
  payload: Schema.String,
  success: Schema.String,
  run: (text) => Effect.map(Effect.service(Hasher), (hasher) => hasher.hash(text)),
  layer: HasherLive
})

/** Logs what it does (the entries reach the caller's logger), in a span of its own. */
export const inspect = Task.make("inspect", {
  module: import.meta.url,
  payload: Schema.Number,
  success: Schema.Number,
  run: (n) =>
    Effect.gen(function* () {
      yield* Effect.log(`inspecting ${n}`)
      return n * 10
    }).pipe(Effect.withSpan("inspect.work"))
})

/** A range past what `countPrimesInSlices` accepts. */
export class TooLarge extends Schema.TaggedError<TooLarge>()("TooLarge", { to: Schema.Number }) {}

/**
 * Counts the primes in `[from, to)` a slice at a time, yielding between
 * slices: an interruption stops it within a slice, inside its worker, where
 * its `onInterrupt` runs (a synchronous loop would be killed instead).
 */
export const countPrimesInSlices = Task.make("countPrimesInSlices", {
  module: import.meta.url,
  payload: Range,
  success: Schema.Number,
  error: TooLarge,
  run: ({ from, to }) =>
    Effect.gen(function* () {
      if (to > 1e9) return yield* new TooLarge({ to })
      let count = 0
      for (let start = from; start < to; start += SLICE) {
        count += primesIn({ from: start, to: Math.min(to, start + SLICE) })
        yield* Effect.yieldNow
      }
      return count
    }).pipe(Effect.onInterrupt(() => Effect.log(`interrupted in worker ${process.pid}: stopped counting`)))
})
