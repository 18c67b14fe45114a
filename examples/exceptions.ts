/**
 * The article's exception example: an exception raised in a child process is
 * re-raised by `fut.result()` in the parent. Here the task's typed error
 * (`ValueError`, a Schema class) crosses the boundary and arrives as an
 * instance of its class, so `Effect.catchTag` matches it.
 *
 *   def may_fail(n):
 *       if n == 3:
 *           raise ValueError(f"n={n} error")
 *       return n * n
 *
 *   with ProcessPoolExecutor() as ex:
 *       futs = [ex.submit(may_fail, i) for i in range(5)]
 *       for f in futs:
 *           try:
 *               print(f.result())
 *           except ValueError as e:
 *               print(f"caught: {e}")
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect, Fiber } from "effect"
import { ProcessPool } from "effect-process-pool"
import { mayFail } from "./tasks/heavy.ts"

const program = Effect.gen(function* () {
  const futures = yield* Effect.forEach([0, 1, 2, 3, 4], (n) => ProcessPool.submit(mayFail, n))
  for (const future of futures) {
    yield* Fiber.join(future).pipe(
      Effect.flatMap((value) => Console.log(value)),
      Effect.catchTag("ValueError", (e) => Console.log(`caught: ${e.message}`))
    )
  }
})

program.pipe(Effect.provide(ProcessPool.layer()), NodeRuntime.runMain)
