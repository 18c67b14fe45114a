/**
 * Where a stream driver (`mapStream`, `asCompleted`) takes its inputs from:
 * exactly as many as it asks for from an `Iterable`; from a `Stream`, what
 * its pulls give, lingering at most `CHUNK_LINGER_MS` for more once a chunk
 * has some. Neither ever fails: a source that breaks (an iterator that
 * throws, a failing `Stream`) ends, and says why in `failure`, so that a
 * driver emits what came before it first.
 *
 * @internal
 */
import type * as Arr from "effect/Array"
import * as Cause from "effect/Cause"
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

/**
 * An `Iterable`'s inputs. Its iterator is user code and may throw (in
 * `[Symbol.iterator]`, `next`, or a getter of what `next` answers) or answer
 * something that is not an iterator result: `take` never fails for it. The
 * inputs read before the throw are taken as usual and the source ends with
 * the throw as a defect, as `Stream.fromIterable` ends (the feeder's fiber
 * dying instead would leave the stream waiting for it forever).
 */
export const iterableSource = <I>(inputs: Iterable<I>): Source<I, never> => {
  let iterator: Iterator<I> | undefined
  let done = false
  let failure: Cause.Cause<never> | undefined
  return {
    take: (max) =>
      Effect.sync(() => {
        const out: Array<I> = []
        try {
          iterator ??= iteratorOf(inputs)
          while (!done && out.length < max) {
            const next = iterator.next()
            // what `for (const x of inputs)` checks, in the same words
            if ((typeof next !== "object" && typeof next !== "function") || next === null) {
              throw new TypeError(`Iterator result ${String(next)} is not an object`)
            }
            if (next.done) done = true
            else out.push(next.value)
          }
        } catch (error) {
          done = true
          failure = Cause.die(error)
        }
        return out
      }),
    failure: () => failure
  }
}

const iteratorOf = <I>(inputs: Iterable<I>): Iterator<I> => {
  const iterator = inputs[Symbol.iterator]()
  if (typeof iterator !== "object" || iterator === null) {
    throw new TypeError("Result of the Symbol.iterator method is not an object")
  }
  return iterator
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
