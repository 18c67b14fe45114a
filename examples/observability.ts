/**
 * A pool is as observable as the rest of a program: `Effect.log` in a task
 * reaches this program's logger (annotated with the worker's id and pid and
 * the task's name), the pool's metrics are Effect `Metric`s, and a task runs
 * in a span in its worker that is a child of the caller's span.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect, Metric } from "effect"
import { ProcessPool } from "effect-process-pool"
import { inspect } from "./tasks/more.ts"

const program = Effect.gen(function* () {
  const results = yield* ProcessPool.map(inspect, [1, 2, 3], { chunksize: 1 }).pipe(Effect.withSpan("inspect all"))
  yield* Console.log(`results: ${results.join(", ")}`)
  const completed = (yield* Metric.snapshot).find(
    (m) => m.id === "process_pool_tasks_completed" && m.attributes?.task === "inspect"
  )
  yield* Console.log(`metric process_pool_tasks_completed{task="inspect"}: ${JSON.stringify(completed?.state)}`)
})

program.pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 2 })), NodeRuntime.runMain)
