/**
 * `mapStream`: the results in input order, lazily. A feeder (`feeder.ts`)
 * pulls inputs only as needed and keeps at most `bufferSize` chunks submitted
 * but not yet emitted; a failure anywhere stops the feeder and interrupts the
 * chunks after it (see `chunks.ts`).
 *
 * @internal
 */
import type * as Arr from "effect/Array"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Pull from "effect/Pull"
import type * as Stream from "effect/Stream"
import type { ProcessPoolError } from "../ProcessPoolError.ts"
import type { Task } from "../Task.ts"
import { type Chunk, Fanout, firstFailure } from "./chunks.ts"
import type * as Engine from "./engine.ts"
import { makeFeeder, toStream } from "./feeder.ts"
import type * as Options from "./options.ts"
import * as P from "./protocol.ts"

export const orderedStream = <I, A, E, EI, RI, H>(
  engine: Engine.PoolEngine<H>,
  task: Task<I, A, E>,
  inputs: Iterable<I> | Stream.Stream<I, EI, RI>,
  options: Options.StreamOptions
): Stream.Stream<A, E | ProcessPoolError | EI, RI> =>
  toStream(inputs, (source, scope, caller) =>
    Effect.gen(function* () {
      const order: Array<Chunk<I, A, E>> = []
      let failure: Cause.Cause<E | ProcessPoolError> | undefined
      let failedAt = Number.POSITIVE_INFINITY
      const feeder = yield* makeFeeder<I, A, E, EI, H>(
        source,
        options,
        scope,
        (onDone, onAdmitted) => new Fanout(engine, task, P.MODE_STOP_ON_FAILURE, false, caller, onDone, onAdmitted),
        (chunks) => order.push(...chunks),
        (chunk) => {
          // a failure anywhere makes everything after it useless
          const failed = firstFailure(chunk)
          if (failed !== undefined && chunk.start + failed[0] < failedAt) {
            failedAt = chunk.start + failed[0]
            feeder.stop()
            feeder.fanout.interruptAfter(failedAt)
          }
        }
      )
      const pull: Pull.Pull<Arr.NonEmptyReadonlyArray<A>, E | ProcessPoolError | EI, void> = Effect.gen(function* () {
        for (;;) {
          if (failure !== undefined) return yield* Effect.failCause(failure)
          const head = order[0]
          if (head === undefined) {
            if (feeder.state.sourceDone || feeder.state.stopped) {
              const sourceFailure = source.failure()
              return yield* sourceFailure === undefined ? Cause.done() : Effect.failCause(sourceFailure)
            }
            yield* feeder.waitUntil(() => order.length > 0 || feeder.state.sourceDone || feeder.state.stopped)
            continue
          }
          yield* feeder.waitUntil(() => head.ended)
          order.shift()
          feeder.emitted(1)
          if (head.values !== undefined) return head.values as Arr.NonEmptyReadonlyArray<A>
          const exits = head.exits!
          const values: Array<A> = []
          for (const exit of exits) {
            if (exit === undefined) break
            if (Exit.isSuccess(exit)) {
              values.push(exit.value)
              continue
            }
            failure = exit.cause
            break
          }
          if (values.length > 0) return values as unknown as Arr.NonEmptyReadonlyArray<A>
        }
      })
      return pull
    })
  )
