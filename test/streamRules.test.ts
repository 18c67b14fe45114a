/**
 * The rules of streaming tasks that guard the pool against the task and the
 * caller, on both kinds (the vitest projects "process" and "thread"): a
 * stream that will not stop is stopped by killing its worker, a defect ends
 * the stream after its elements and spares the worker, a bad `bufferSize` is
 * refused before any worker is taken, and the pool's scope closing ends a
 * stream stuck in a loop and leaves no worker alive. Each was seen failing
 * with its rule broken once (see the report of the branch `stream-rules`).
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Stream } from "effect"
import { ProcessPool, ProcessPoolError } from "../src/index.ts"
import * as S from "./fixtures/streamTasks.ts"
import { eventually } from "./helpers/eventually.ts"
import { readLines, tmpFile } from "./helpers/files.ts"
import { onProcesses } from "./helpers/kind.ts"
import { childrenOf, isAlive } from "./helpers/processes.ts"

const pool = (options?: ProcessPool.Options) => ProcessPool.layer({ maxWorkers: 1, ...options })

/** A bound on waits that would be for ever if the rule under test broke. */
const BOUND = "20 seconds"

/** The defect an exit died with. */
const defectOf = (exit: Exit.Exit<unknown, unknown>): unknown => {
  assert.isTrue(Exit.isFailure(exit) && Cause.hasDies(exit.cause), `it died: ${String(exit)}`)
  return Cause.squash((exit as Exit.Failure<unknown, unknown>).cause)
}

/** The number `spinning` has produced, as it wrote it to its marker. */
const produced = (marker: string) => Number(readLines(marker)[0] ?? 0)

describe("stream rules: a stream that does not honour interruption", () => {
  it.live(
    "is stopped by killing its worker after interruptGrace when its consumer's scope closes; the consumer resumes and a fresh worker serves the next stream",
    () =>
      Effect.gen(function* () {
        const first = yield* Effect.scoped(
          Effect.gen(function* () {
            const pull = yield* Stream.toPull(ProcessPool.stream(S.ignoresInterrupt, 7))
            return yield* pull
          })
        ).pipe(Effect.timeout(BOUND))
        assert.deepStrictEqual(first, [7])
        const stats = yield* ProcessPool.stats
        assert.strictEqual(stats.busy, 0, "the worker is free (gone) when the consumer resumes")
        assert.strictEqual(stats.crashed, 0, "killed by the pool, not crashed")
        const next = yield* ProcessPool.stream(S.count, 3).pipe(Stream.runCollect, Effect.timeout(BOUND))
        assert.deepStrictEqual(next, [0, 1, 2])
        assert.strictEqual((yield* ProcessPool.stats).restarted, 1)
      }).pipe(Effect.provide(pool({ interruptGrace: "300 millis" })))
  )
})

describe("stream rules: defects", () => {
  it.live("a stream that dies ends the consumer's stream with that defect after its elements; the worker goes on", () =>
    Effect.gen(function* () {
      const elements: Array<number> = []
      const exit = yield* ProcessPool.stream(S.diesAfter, 3).pipe(
        Stream.runForEach((n) => Effect.sleep(60).pipe(Effect.andThen(Effect.sync(() => elements.push(n))))),
        Effect.exit
      )
      assert.deepStrictEqual(elements, [0, 1, 2])
      assert.match(String(defectOf(exit)), /stream died after 3/)
      assert.deepStrictEqual(yield* ProcessPool.stream(S.count, 2).pipe(Stream.runCollect), [0, 1])
      const stats = yield* ProcessPool.stats
      assert.strictEqual(stats.crashed, 0)
      assert.strictEqual(stats.restarted, 0, "the same worker served the next stream")
    }).pipe(Effect.provide(pool()))
  )
})

describe("stream rules: an element that does not fit", () => {
  it.live("refused by the parent's decoding is a TaskCodecError naming its index, after the ones before it", () =>
    Effect.gen(function* () {
      const elements: Array<number> = []
      const exit = yield* ProcessPool.stream(S.refusedInParent, 0).pipe(
        Stream.runForEach((n) => Effect.sync(() => elements.push(n))),
        Effect.exit
      )
      assert.deepStrictEqual(elements, [0, 1, 2, 3])
      assert.isTrue(Exit.isFailure(exit))
      const error = Cause.squash((exit as Exit.Failure<unknown, unknown>).cause) as ProcessPoolError.ProcessPoolError
      const reason = error.reason as ProcessPoolError.TaskCodecError
      assert.strictEqual(reason._tag, "TaskCodecError")
      assert.strictEqual(reason.phase, "element")
      assert.strictEqual(reason.index, S.refusedAt)
      assert.match(reason.message, /element 4 of task "refusedInParent"/)
      // the stream's worker is free again
      assert.deepStrictEqual(yield* ProcessPool.stream(S.count, 2).pipe(Stream.runCollect), [0, 1])
    }).pipe(Effect.provide(pool()))
  )
})

describe("stream rules: bufferSize", () => {
  it.live("one that is not a positive integer dies with an IllegalArgumentError naming it, and takes no worker", () =>
    Effect.gen(function* () {
      for (const bufferSize of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "8" as unknown as number]) {
        const exit = yield* ProcessPool.stream(S.count, 1, { bufferSize }).pipe(Stream.runCollect, Effect.exit)
        const defect = defectOf(exit)
        assert.instanceOf(defect, Cause.IllegalArgumentError, `bufferSize ${String(bufferSize)}`)
        assert.match(
          (defect as Cause.IllegalArgumentError).message,
          /^Expected `bufferSize` to be a positive integer, got `/
        )
      }
      const stats = yield* ProcessPool.stats
      assert.deepStrictEqual([stats.workers, stats.busy, stats.queued], [0, 0, 0])
      // a good one after them runs
      assert.deepStrictEqual(yield* ProcessPool.stream(S.count, 2, { bufferSize: 1 }).pipe(Stream.runCollect), [0, 1])
    }).pipe(Effect.provide(pool()))
  )
})

describe("stream rules: the pool closing", () => {
  it.live(
    "while a stream is stuck in a synchronous loop ends its consumer interrupted, kills its worker, and refuses later streams with PoolClosed",
    () =>
      Effect.gen(function* () {
        const marker = tmpFile("spinning")
        let key = 0
        const [consumer, closed] = yield* Effect.scoped(
          Effect.gen(function* () {
            const pool = yield* ProcessPool.make({
              maxWorkers: 1,
              interruptGrace: "200 millis",
              shutdownTimeout: "500 millis"
            })
            const consumer = yield* Effect.forkDetach(
              pool.stream(S.spinning, marker).pipe(
                Stream.runForEach((k) =>
                  Effect.sync(() => {
                    key = k
                  })
                )
              ),
              { startImmediately: true }
            )
            yield* eventually(
              Effect.sync(() => key),
              (k) => k > 0,
              15_000
            )
            return [consumer, pool] as const
          })
        ).pipe(Effect.timeout(BOUND))
        const exit = yield* Fiber.await(consumer).pipe(Effect.timeout(BOUND))
        assert.isTrue(Exit.hasInterrupts(exit), "the consumer ends interrupted")
        if (onProcesses) {
          assert.isFalse(isAlive(key), `worker ${key} is still alive`)
          assert.deepStrictEqual(childrenOf(process.pid), [])
        }
        // on either kind, a worker still alive would go on counting
        const count = produced(marker)
        yield* Effect.sleep(300)
        assert.strictEqual(produced(marker), count, "the stream still runs")
        const later = yield* closed.stream(S.count, 1).pipe(Stream.runCollect, Effect.exit)
        assert.isTrue(Exit.isFailure(later))
        const error = Cause.squash((later as Exit.Failure<unknown, unknown>).cause)
        assert.instanceOf(error, ProcessPoolError.ProcessPoolError)
        assert.strictEqual((error as ProcessPoolError.ProcessPoolError).reason._tag, "PoolClosed")
      })
  )
})
