/**
 * A bound on a cluster call that holds even when the call cannot be
 * interrupted at once. `Effect.timeout` waits for the timed-out effect to
 * finish interrupting, and a message to a runner that died may sit in the
 * cluster's resend loop (Sharding retries every `sendRetryInterval` until the
 * shard moves): measured, a `Hello` to a SIGKILLed runner under
 * `Effect.timeoutOption(1500)` came back after ~4 s. So the call runs in a
 * fiber of its own; the caller waits for it at most `ms`, then leaves it to
 * be interrupted in the background.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"

/** `Some(exit)` of `effect`, or `None` when it has not ended within `ms`. */
export const within = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  ms: number
): Effect.Effect<Option.Option<Exit.Exit<A, E>>, never, R> =>
  Effect.gen(function* () {
    const fiber = yield* Effect.forkDetach(effect, { startImmediately: true })
    const exit = yield* Fiber.await(fiber).pipe(Effect.timeoutOption(ms))
    if (Option.isNone(exit)) fiber.interruptUnsafe()
    return exit
  })
