/**
 * `map`: all inputs are known (Python's `Executor.map` also takes the whole
 * iterable at once); chunks are submitted eagerly (a fixed size) or as
 * results come back (`"auto"`, which learns its size, see `autoChunk.ts`);
 * results are collected in input order. See `chunks.ts` for failures.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Result from "effect/Result"
import type { ProcessPoolError } from "../ProcessPoolError.ts"
import type { Task } from "../Task.ts"
import * as AutoChunk from "./autoChunk.ts"
import { callerOf } from "./caller.ts"
import { type Chunk, Fanout, firstFailure } from "./chunks.ts"
import type * as Engine from "./engine.ts"
import * as Options from "./options.ts"
import * as P from "./protocol.ts"

/**
 * With `"auto"`, this many chunks per worker are kept submitted, so that a
 * worker finishing a chunk finds the next one already queued.
 */
const AUTO_CHUNKS_PER_WORKER = 2

export const map = <I, A, E, H>(
  engine: Engine.PoolEngine<H>,
  workers: number,
  task: Task<I, A, E>,
  inputs: Iterable<I>,
  options: unknown
): Effect.Effect<Array<A>, E | ProcessPoolError> =>
  Effect.suspend(() => {
    const validated = Options.mapOptions(options)
    if (Result.isFailure(validated)) return Options.illegal(validated.failure)
    const chunksize = validated.success
    // Python's Executor.map also takes the whole iterable at once
    const items = Array.isArray(inputs) ? (inputs as ReadonlyArray<I>) : Array.from(inputs)
    if (items.length === 0) return Effect.succeed([])
    return Effect.withFiber((fiber) =>
      Effect.callback<Array<A>, E | ProcessPoolError>((resume) => {
        const results: Array<A> = new Array(items.length)
        const window = chunksize === "auto" ? workers * AUTO_CHUNKS_PER_WORKER : Number.POSITIVE_INFINITY
        let auto = AutoChunk.initial
        let next = 0
        let failedAt = Number.POSITIVE_INFINITY
        let failure: Exit.Exit<never, E | ProcessPoolError> | undefined
        let filling = false
        let finished = false

        const onDone = (chunk: Chunk<I, A, E>) => {
          if (chunksize === "auto" && chunk.serviceMs >= 0) auto = AutoChunk.observe(auto, chunk.count, chunk.serviceMs)
          const failed = firstFailure(chunk)
          if (chunk.values !== undefined) {
            for (let i = 0; i < chunk.values.length; i++) results[chunk.start + i] = chunk.values[i]!
          } else {
            const exits = chunk.exits!
            const upTo = failed === undefined ? exits.length : failed[0]
            for (let i = 0; i < upTo; i++) results[chunk.start + i] = (exits[i] as Exit.Success<A>).value
          }
          if (failed !== undefined && chunk.start + failed[0] < failedAt) {
            failedAt = chunk.start + failed[0]
            failure = failed[1] as Exit.Exit<never, E | ProcessPoolError>
            fanout.interruptAfter(failedAt)
          }
          fill()
        }

        const fanout = new Fanout(engine, task, P.MODE_STOP_ON_FAILURE, false, callerOf(fiber), onDone, () => fill())

        const fill = () => {
          if (filling || finished) return
          filling = true
          // under `maxQueue`, one chunk at a time waits for room (`fanout.waiting`)
          while (
            next < items.length &&
            failedAt === Number.POSITIVE_INFINITY &&
            fanout.pending < window &&
            fanout.waiting === 0
          ) {
            const size = Math.min(
              chunksize === "auto" ? AutoChunk.next(auto, items.length - next, workers) : chunksize,
              fanout.maxChunk
            )
            const slice = items.slice(next, next + size)
            next += slice.length
            fanout.submit(slice, next - slice.length)
          }
          filling = false
          if (fanout.pending === 0 && (next === items.length || failure !== undefined)) {
            finished = true
            resume(failure ?? Exit.succeed(results))
          }
        }

        fill()
        return Effect.callback<void>((stopped) => {
          finished = true
          fanout.stopAll(() => stopped(Effect.void))
        })
      })
    )
  })
