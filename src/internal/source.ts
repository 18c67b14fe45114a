/**
 * Where a stream driver (`mapStream`, `asCompleted`) takes its inputs from:
 * exactly as many as it asks for from an `Iterable`; from a `Stream`, what
 * its pulls give, lingering at most `CHUNK_LINGER_MS` for more once a chunk
 * has some.
 *
 * @internal
 */
import type * as Arr from "effect/Array"
import type * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Pull from "effect/Pull"
import type * as Scope from "effect/Scope"
import * as AutoChunk from "./autoChunk.ts"

/**
 * How long a chunk waits for more inputs from a slow `Stream` before it leaves
 * with the inputs it has: a chunk size learned on fast inputs must not hold a
 * slow stream's first results back for long.
 */
const CHUNK_LINGER_MS = AutoChunk.TARGET_CHUNK_MS

export interface Source<I, EI> {
  /** Up to `max` inputs; none when the source has ended (see `failure`). */
  readonly take: (max: number) => Effect.Effect<ReadonlyArray<I>>
  /** why the source ended, if it failed */
  readonly failure: () => Cause.Cause<EI> | undefined
}

export const iterableSource = <I>(inputs: Iterable<I>): Source<I, never> => {
  const iterator = inputs[Symbol.iterator]()
  let done = false
  return {
    take: (max) =>
      Effect.sync(() => {
        const out: Array<I> = []
        while (!done && out.length < max) {
          const next = iterator.next()
          if (next.done) done = true
          else out.push(next.value)
        }
        return out
      }),
    failure: () => undefined
  }
}

export const streamSource = <I, EI>(
  upstream: Pull.Pull<Arr.NonEmptyReadonlyArray<I>, EI, void>,
  scope: Scope.Scope
): Source<I, EI> => {
  const buffer: Array<I> = []
  let done = false
  let failure: Cause.Cause<EI> | undefined
  let pending: Fiber.Fiber<Arr.NonEmptyReadonlyArray<I>, EI | Cause.Done> | undefined

  const absorb = (exit: Exit.Exit<Arr.NonEmptyReadonlyArray<I>, EI | Cause.Done>) => {
    pending = undefined
    if (Exit.isSuccess(exit)) {
      for (const input of exit.value) buffer.push(input)
    } else {
      done = true
      if (!Pull.isDoneCause(exit.cause)) failure = exit.cause as Cause.Cause<EI>
    }
  }

  const take = (max: number): Effect.Effect<ReadonlyArray<I>> =>
    Effect.gen(function* () {
      let lingerUntil = 0
      while (buffer.length < max && !done) {
        pending ??= yield* Effect.forkIn(upstream, scope, { startImmediately: true })
        if (buffer.length === 0) {
          absorb(yield* Fiber.await(pending))
          lingerUntil = performance.now() + CHUNK_LINGER_MS
          continue
        }
        const left = lingerUntil - performance.now()
        if (left <= 0) break
        const exit = yield* Fiber.await(pending).pipe(Effect.timeoutOption(left))
        if (Option.isNone(exit)) break // the pull goes on; the next chunk takes what it brings
        absorb(exit.value)
      }
      return buffer.splice(0, Math.min(max, buffer.length))
    })

  return { take, failure: () => failure }
}
