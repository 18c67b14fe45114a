/**
 * Cancellation is fiber interruption: `Effect.timeout` stops a task that is
 * busy in a synchronous loop. The worker cannot honour an interrupt in such
 * a loop, so after `interruptGrace` the pool kills it and starts a fresh one;
 * the timeout returns once the work has really stopped. Python's
 * `future.result(timeout)` leaves the task running, and `future.cancel()`
 * cannot stop a task that has started.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect } from "effect"
import { ProcessPool } from "effect-process-pool"
import { runaway } from "./tasks/more.ts"

const program = Effect.gen(function* () {
  yield* ProcessPool.run(runaway, 1) // the worker is up: the timeout below is about the task, not the start
  const start = Date.now()
  const result = yield* ProcessPool.run(runaway, 60_000).pipe(Effect.timeoutOption("200 millis"))
  yield* Console.log(
    `a 60 s loop under a 200 ms timeout: ${result._tag}, back after ${Date.now() - start < 2_000 ? "under 2 s" : "too long"}`
  )
  // the pool healed: the next task runs on a fresh worker
  const spins = yield* ProcessPool.run(runaway, 10)
  yield* Console.log(`the next task ran: ${spins > 0}`)
  const { crashed, restarted } = yield* ProcessPool.stats
  yield* Console.log(`crashed: ${crashed}, restarted: ${restarted}`)
})

program.pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 1, interruptGrace: "300 millis" })), NodeRuntime.runMain)
