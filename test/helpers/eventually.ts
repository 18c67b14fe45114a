/**
 * Polling with a bound: no test waits on a child process for ever.
 */
import { Effect } from "effect"

/** Runs `effect` every 20 ms until `done` holds for its value; fails after `withinMs`. */
export const eventually = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  done: (a: A) => boolean,
  withinMs = 10_000
): Effect.Effect<A, E | Error, R> =>
  Effect.gen(function* () {
    const start = Date.now()
    for (;;) {
      const a = yield* effect
      if (done(a)) return a
      if (Date.now() - start > withinMs) {
        return yield* Effect.fail(new Error(`not done after ${withinMs} ms; last value: ${JSON.stringify(a)}`))
      }
      yield* Effect.sleep(20)
    }
  })
