/**
 * `asCompleted`: one element `{ index, input, exit }` per input, in
 * completion order, as soon as its chunk completes. Every input of every
 * chunk runs and reports its own `Exit`; the same feeder as `mapStream`
 * (`feeder.ts`) bounds what is in flight.
 *
 * @internal
 */
import type * as Arr from "effect/Array"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import type * as Pull from "effect/Pull"
import type * as Stream from "effect/Stream"
import type { Completed } from "../ProcessPool.ts"
import type { Task } from "../Task.ts"
import { exitsOf, Fanout } from "./chunks.ts"
import type * as Engine from "./engine.ts"
import { makeFeeder, toStream } from "./feeder.ts"
import type * as Options from "./options.ts"
import * as Outcomes from "./outcomes.ts"
import * as P from "./protocol.ts"

export const completionStream = <I, A, E, EI, RI, H>(
  engine: Engine.PoolEngine<H>,
  task: Task<I, A, E>,
  inputs: Iterable<I> | Stream.Stream<I, EI, RI>,
  options: Options.StreamOptions
): Stream.Stream<Completed<I, A, E>, EI, RI> =>
  toStream(inputs, (source, scope, caller) =>
    Effect.gen(function* () {
      let ready: Array<Completed<I, A, E>> = []
      let readyChunks = 0
      const feeder = yield* makeFeeder<I, A, E, EI, H>(
        source,
        options,
        scope,
        (onDone, onAdmitted) => new Fanout(engine, task, P.MODE_ALL, true, caller, onDone, onAdmitted),
        () => {},
        (chunk) => {
          const exits = exitsOf(chunk)
          for (let i = 0; i < chunk.count; i++) {
            ready.push({ index: chunk.start + i, input: chunk.inputs![i]!, exit: exits[i] ?? Outcomes.interrupted })
          }
          readyChunks++
        }
      )
      const pull: Pull.Pull<Arr.NonEmptyReadonlyArray<Completed<I, A, E>>, EI, void> = Effect.gen(function* () {
        for (;;) {
          if (ready.length > 0) {
            const out = ready
            ready = []
            feeder.emitted(readyChunks)
            readyChunks = 0
            return out as unknown as Arr.NonEmptyReadonlyArray<Completed<I, A, E>>
          }
          if (feeder.state.sourceDone && feeder.fanout.pending === 0) {
            const sourceFailure = source.failure()
            return yield* sourceFailure === undefined ? Cause.done() : Effect.failCause(sourceFailure)
          }
          yield* feeder.waitUntil(() => ready.length > 0 || (feeder.state.sourceDone && feeder.fanout.pending === 0))
        }
      })
      return pull
    })
  )
