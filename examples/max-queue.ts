/**
 * A producer throttled by `maxQueue`: one fiber submits 400 tasks as fast as
 * it can, and each `submit` returns only once its task has room in the pool.
 * Without `maxQueue` the loop would queue all 400 at once (a producer of
 * millions fills the parent's memory); with it, the producer goes at the
 * workers' pace and the pool never holds more than 16 inputs waiting.
 *
 * piscina throws when its queue is full; here the caller suspends, as an
 * Effect program wants, and an interrupted caller leaves the line.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect, Fiber } from "effect"
import { ProcessPool } from "effect-process-pool"
import { heavy } from "./tasks/heavy.ts"

const MAX_QUEUE = 16

const TASKS = 400

const program = Effect.gen(function* () {
  let mostQueued = 0
  const futures: Array<Fiber.Fiber<bigint, unknown>> = []
  for (let i = 0; i < TASKS; i++) {
    // suspends while the pool holds MAX_QUEUE inputs not started
    futures.push(yield* ProcessPool.submit(heavy, 20_000 + i))
    mostQueued = Math.max(mostQueued, (yield* ProcessPool.stats).queued)
  }
  // when the last submit returns, all but the last few (those queued, and those running) have run
  const { completed } = yield* ProcessPool.stats
  const ran = completed >= TASKS - MAX_QUEUE - 2 ? "all but the last few" : `only ${completed}`
  yield* Console.log(`submitted ${TASKS} tasks from one fiber; when it was done, ${ran} had run`)
  yield* Console.log(
    `inputs waiting in the pool: ${mostQueued <= MAX_QUEUE ? `never more than ${MAX_QUEUE}` : mostQueued}`
  )
  const sums = yield* Fiber.joinAll(futures)
  yield* Console.log(`sum of the results: ${sums.reduce((a, b) => a + b, 0n)}`)
})

program.pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 2, maxQueue: MAX_QUEUE })), NodeRuntime.runMain)
