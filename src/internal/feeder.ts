/**
 * What the two stream drivers (`orderedStream.ts`, `completionStream.ts`)
 * share: a feeder fiber that takes inputs and submits chunks while fewer than
 * `bufferSize` are submitted and not yet emitted (Python 3.14's
 * `buffersize`), a change signal, and the finalizer that stops every chunk.
 * Under a pool's `maxQueue` it also waits until its chunks are admitted
 * before it takes more inputs, and cuts chunks to at most `maxQueue` inputs:
 * an endless input is read only as fast as room frees in the pool.
 *
 * @internal
 */
import type * as Arr from "effect/Array"
import * as Effect from "effect/Effect"
import type * as Pull from "effect/Pull"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as AutoChunk from "./autoChunk.ts"
import { callerOf } from "./caller.ts"
import type { Chunk, Fanout } from "./chunks.ts"
import type * as Jobs from "./jobs.ts"
import type * as Options from "./options.ts"
import { iterableSource, type Source, streamSource } from "./source.ts"

/**
 * The part the two stream drivers share: a feeder fiber that takes inputs and
 * submits chunks while fewer than `bufferSize` are submitted and not yet
 * emitted, a change signal, and the finalizer that stops every chunk.
 */
export const makeFeeder = <I, A, E, EI, H>(
  source: Source<I, EI>,
  options: Options.StreamOptions,
  scope: Scope.Scope,
  makeFanout: (onDone: (chunk: Chunk<I, A, E>) => void, onAdmitted: () => void) => Fanout<I, A, E, H>,
  onSubmitted: (chunks: ReadonlyArray<Chunk<I, A, E>>) => void,
  onDone: (chunk: Chunk<I, A, E>) => void
) =>
  Effect.gen(function* () {
    let auto = AutoChunk.initial
    let next = 0
    const state = { unemitted: 0, sourceDone: false, stopped: false }
    let waiters: Array<() => void> = []
    const notify = () => {
      const current = waiters
      waiters = []
      for (const waiter of current) waiter()
    }
    /** suspends until `condition` holds; checked when registering, so no change is missed */
    const waitUntil = (condition: () => boolean): Effect.Effect<void> =>
      Effect.callback<void>((resume) => {
        if (condition()) return resume(Effect.void)
        const check = () => (condition() ? resume(Effect.void) : waiters.push(check))
        waiters.push(check)
      })

    const fanout = makeFanout((chunk) => {
      if (options.chunksize === "auto" && chunk.serviceMs >= 0) {
        auto = AutoChunk.observe(auto, chunk.count, chunk.serviceMs)
      }
      onDone(chunk)
      notify()
    }, notify)

    const feed = Effect.gen(function* () {
      for (;;) {
        // under `maxQueue`, no more inputs are read while a chunk waits for room
        yield* waitUntil(() => state.stopped || (state.unemitted < options.bufferSize && fanout.waiting === 0))
        if (state.stopped) return
        const size = Math.min(
          options.chunksize === "auto" ? AutoChunk.next(auto, undefined, options.workers) : options.chunksize,
          fanout.maxChunk
        )
        const inputs = yield* source.take(size)
        if (state.stopped) return
        if (inputs.length === 0) {
          state.sourceDone = true
          notify()
          return
        }
        const chunks = fanout.submit(inputs, next)
        next += inputs.length
        state.unemitted += chunks.length
        onSubmitted(chunks)
        notify()
      }
    })

    yield* Effect.forkIn(feed, scope, { startImmediately: true })
    // added after the feeder's fork, so it runs first when the scope closes
    yield* Scope.addFinalizer(
      scope,
      Effect.callback<void>((resume) => {
        state.stopped = true
        notify()
        fanout.stopAll(() => resume(Effect.void))
      })
    )

    const emitted = (chunks: number) => {
      state.unemitted -= chunks
      notify()
    }
    const stop = () => {
      state.stopped = true
      notify()
    }
    return { state, waitUntil, fanout, emitted, stop }
  })

/**
 * A stream over the driver's pulls, with its inputs as a `Source`, and the
 * calling fiber as the chunks' caller.
 */
export const toStream = <I, EI, RI, B, E2>(
  inputs: Iterable<I> | Stream.Stream<I, EI, RI>,
  driver: (
    source: Source<I, EI>,
    scope: Scope.Scope,
    caller: Jobs.Caller
  ) => Effect.Effect<Pull.Pull<Arr.NonEmptyReadonlyArray<B>, E2, void>>
): Stream.Stream<B, Pull.ExcludeDone<E2>, RI> =>
  Stream.isStream(inputs)
    ? Stream.transformPull(inputs as Stream.Stream<I, EI, RI>, (upstream, scope) =>
        Effect.withFiber((fiber) => driver(streamSource(upstream, scope), scope, callerOf(fiber)))
      )
    : Stream.transformPull(Stream.empty, (_, scope) =>
        Effect.withFiber((fiber) => driver(iterableSource(inputs as Iterable<I>) as any, scope, callerOf(fiber)))
      )
