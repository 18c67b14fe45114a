/**
 * Tasks for the examples that show one idea each: cancellation, a worker
 * crash, a task layer (Python's `initializer`), and logging from a worker.
 */
import * as NodeCrypto from "node:crypto"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Task from "effect-process-pool/Task"

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
