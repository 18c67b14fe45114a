/**
 * The article's `submit` + `as_completed` example: results in completion
 * order, each handled on its own. `ProcessPool.asCompleted` is a `Stream` of
 * `{ index, input, exit }`; a failed input is an element with a failed `Exit`
 * — the `try` around `fut.result()` — and the stream goes on.
 *
 *   tasks = [10_000, 20_000, 30_000]
 *   with ProcessPoolExecutor() as ex:
 *       futures = {ex.submit(heavy, n): n for n in tasks}
 *       for fut in as_completed(futures):   # in completion order
 *           n = futures[fut]
 *           try:
 *               print(f"n={n}: {fut.result()}")
 *           except Exception as e:
 *               print(f"n={n}: error — {e}")
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect, Exit, Stream } from "effect"
import { ProcessPool } from "effect-process-pool"
import { heavy, mayFail } from "./tasks/heavy.ts"

const program = Effect.gen(function* () {
  yield* ProcessPool.asCompleted(heavy, [10_000, 20_000, 30_000]).pipe(
    Stream.runForEach(({ exit, input }) =>
      Exit.isSuccess(exit) ? Console.log(`n=${input}: ${exit.value}`) : Console.log(`n=${input}: error`)
    )
  )
  // the same with inputs that fail: an Exit is an Effect, so each error is
  // handled where it arrives, with the task's own typed error
  yield* ProcessPool.asCompleted(mayFail, [0, 1, 2, 3, 4]).pipe(
    Stream.runForEach(({ exit, input }) =>
      exit.pipe(
        Effect.flatMap((value) => Console.log(`n=${input}: ${value}`)),
        Effect.catchTag("ValueError", (e) => Console.log(`n=${input}: error — ${e.message}`))
      )
    )
  )
})

program.pipe(Effect.provide(ProcessPool.layer()), NodeRuntime.runMain)
