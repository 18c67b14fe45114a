/**
 * The article's `submit` example: each submission returns at once with a
 * Future — here a `Fiber` that belongs to the pool — and each result is
 * handled on its own, errors included.
 *
 *   tasks = [10_000, 20_000, 30_000]
 *   with ProcessPoolExecutor() as ex:
 *       futures = {ex.submit(heavy, n): n for n in tasks}
 *       for fut in futures:
 *           n = futures[fut]
 *           try:
 *               print(f"n={n}: {fut.result()}")
 *           except Exception as e:
 *               print(f"n={n}: error — {e}")
 *
 * (`as_completed`, which yields the futures in completion order, is
 * `ProcessPool.asCompleted`: see as-completed.ts.)
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect, Fiber, Result } from "effect"
import { ProcessPool } from "effect-process-pool"
import { heavy } from "./tasks/heavy.ts"

const program = Effect.gen(function* () {
  const tasks = [10_000, 20_000, 30_000]
  const futures = yield* Effect.forEach(tasks, (n) => ProcessPool.submit(heavy, n))
  for (const [i, future] of futures.entries()) {
    const result = yield* Effect.result(Fiber.join(future))
    yield* Result.isSuccess(result)
      ? Console.log(`n=${tasks[i]}: ${result.success}`)
      : Console.log(`n=${tasks[i]}: error — ${result.failure.message}`)
  }
})

program.pipe(Effect.provide(ProcessPool.layer()), NodeRuntime.runMain)
