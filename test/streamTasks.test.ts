/**
 * Streaming tasks (`Task.makeStream`, `ProcessPool.stream`) with real workers,
 * on both kinds (the vitest projects "process" and "thread"): order,
 * back-pressure, interruption in the worker, failures after elements, and a
 * stream's hold on its worker.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Logger, References, Stream } from "effect"
import { ProcessPool, ProcessPoolError } from "../src/index.ts"
import * as S from "./fixtures/streamTasks.ts"
import { eventually } from "./helpers/eventually.ts"
import { readLines, tmpFile } from "./helpers/files.ts"
import { framings } from "./helpers/kind.ts"

const pool = (options?: ProcessPool.Options) => ProcessPool.layer({ maxWorkers: 1, ...options })
const range = (n: number) => Array.from({ length: n }, (_, i) => i)

/**
 * Runs a stream to its end, keeping the elements it emitted before it ended.
 * It is slower than the fixtures' tasks, so that their last elements are
 * still waiting in the parent when the end comes: they must come out first.
 */
const collect = <A, E>(stream: Stream.Stream<A, E, ProcessPool.ProcessPool>) =>
  Effect.gen(function* () {
    const elements: Array<A> = []
    const exit = yield* stream.pipe(
      Stream.runForEach((a) => Effect.sleep(60).pipe(Effect.andThen(Effect.sync(() => elements.push(a))))),
      Effect.exit
    )
    return { elements, exit }
  })

/** The reason of the pool error an exit failed with. */
const reasonOf = (exit: Exit.Exit<unknown, unknown>) => {
  assert.isTrue(Exit.isFailure(exit), "it failed")
  const error = Cause.squash((exit as Exit.Failure<unknown, unknown>).cause)
  assert.instanceOf(error, ProcessPoolError.ProcessPoolError)
  return (error as ProcessPoolError.ProcessPoolError).reason
}

/** The number of elements the endless task has produced, as it wrote it to its marker. */
const produced = (marker: string) => Number(readLines(marker)[0] ?? 0)

describe("stream: elements", () => {
  it.live("arrive in order, whether the task emits them one by one or in one chunk", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* ProcessPool.stream(S.count, 300).pipe(Stream.runCollect), range(300))
      // a chunk larger than the credit is sent a credit at a time
      const chunked = yield* ProcessPool.stream(S.countChunked, 5_000, { bufferSize: 7 }).pipe(Stream.runCollect)
      assert.deepStrictEqual(chunked, range(5_000))
      assert.deepStrictEqual(yield* ProcessPool.stream(S.count, 0).pipe(Stream.runCollect), [])
    }).pipe(Effect.provide(pool()))
  )

  it.live(
    "are the values the task emitted: -0 stays -0 where the channel carries it (a batch of such is not sent as JSON text)",
    () =>
      Effect.gen(function* () {
        for (const serialization of framings) {
          const values = [1, -0, 0, 2.5, -3, 1e300, 5e-324]
          const got = yield* ProcessPool.stream(S.echoes, values).pipe(
            Stream.runCollect,
            Effect.provide(pool(serialization ? { serialization } : {}))
          )
          // "json" writes -0 as 0, as it does for every value it carries
          const expected = serialization === "json" ? values.map((n) => n + 0) : values
          assert.deepStrictEqual(
            got.map((n) => Object.is(n, -0)),
            expected.map((n) => Object.is(n, -0)),
            `${serialization ?? "thread"}: -0 where it was sent`
          )
          assert.deepStrictEqual(got, expected)
        }
      })
  )

  it.live("need the task's layer, and its logs reach the caller's logger, annotated with the task", () => {
    const entries: Array<{ message: ReadonlyArray<unknown>; task: unknown }> = []
    const capture = Logger.make(({ fiber, message }) => {
      entries.push({
        message: message as ReadonlyArray<unknown>,
        task: fiber.getRef(References.CurrentLogAnnotations).task
      })
    })
    return Effect.gen(function* () {
      assert.deepStrictEqual(yield* ProcessPool.stream(S.prefixed, "a\nb").pipe(Stream.runCollect), ["> a", "> b"])
      const lines = entries.filter((e) => String(e.message[0]).startsWith("line "))
      assert.deepStrictEqual(
        lines.map((e) => [e.message[0], e.task]),
        [
          ["line a", "prefixed"],
          ["line b", "prefixed"]
        ]
      )
    }).pipe(Effect.provide(pool()), Effect.provide(Logger.layer([capture])))
  })
})

describe("stream: spans", () => {
  it.live("the worker's stream runs in a span of the caller's trace", () =>
    Effect.gen(function* () {
      const caller = yield* Effect.currentSpan
      const [inWorker] = yield* ProcessPool.stream(S.traced, 0).pipe(Stream.runCollect)
      assert.strictEqual(inWorker!.traceId, caller.traceId)
      assert.strictEqual(inWorker!.name, "ProcessPool.task traced")
    }).pipe(Effect.withSpan("caller"), Effect.provide(pool()))
  )
})

describe("stream: back-pressure", () => {
  it.live("a slow consumer of an endless stream keeps the worker at most a buffer and a chunk ahead", () =>
    Effect.gen(function* () {
      const marker = tmpFile("produced")
      const bufferSize = 8
      const ahead: Array<number> = []
      yield* ProcessPool.stream(S.endless, marker, { bufferSize }).pipe(
        Stream.take(40),
        Stream.runForEach((n) =>
          Effect.gen(function* () {
            // slower than the worker: it would run far ahead if nothing held it back
            yield* Effect.sleep(15)
            ahead.push(produced(marker) - (n + 1))
          })
        )
      )
      // the buffer here, the chunk the consumer is working through, and the one element the worker holds waiting
      const bound = 2 * bufferSize + 1
      assert.isAtMost(Math.max(...ahead), bound, `ahead of the consumer: ${ahead.join(", ")}`)
      // and it does run ahead: the consumer does not wait for each element
      assert.isAtLeast(Math.max(...ahead), bufferSize / 2, `ahead of the consumer: ${ahead.join(", ")}`)
    }).pipe(Effect.provide(pool()))
  )
})

describe("stream: the consumer stopping", () => {
  it.live("Stream.take interrupts the task's stream in its worker: its finalizer has run when take returns", () =>
    Effect.gen(function* () {
      const marker = tmpFile("produced")
      const first = yield* ProcessPool.stream(S.endless, marker).pipe(Stream.take(5), Stream.runCollect)
      assert.deepStrictEqual(first, range(5))
      // no wait: the scope's close waited for the worker to confirm
      assert.strictEqual(readLines(`${marker}.end`).length, 1)
      const stats = yield* ProcessPool.stats
      assert.strictEqual(stats.busy, 0)
      assert.strictEqual(stats.crashed, 0)
      // the same worker is free again (not killed and replaced)
      assert.deepStrictEqual(yield* ProcessPool.stream(S.count, 3).pipe(Stream.runCollect), [0, 1, 2])
      assert.strictEqual((yield* ProcessPool.stats).restarted, 0)
    }).pipe(Effect.provide(pool()))
  )

  it.live("a failing sibling interrupts the stream in its worker", () =>
    Effect.gen(function* () {
      const marker = tmpFile("produced")
      const exit = yield* Effect.all(
        [
          ProcessPool.stream(S.endless, marker).pipe(Stream.runDrain),
          eventually(
            Effect.sync(() => produced(marker)),
            (n) => n > 0,
            15_000
          ).pipe(Effect.andThen(Effect.fail("sibling failed")))
        ],
        { concurrency: 2 }
      ).pipe(Effect.exit)
      assert.deepStrictEqual(exit, Exit.fail("sibling failed"))
      assert.strictEqual(readLines(`${marker}.end`).length, 1)
    }).pipe(Effect.provide(pool()))
  )
})

describe("stream: a task that does not honour interruption", () => {
  it.live(
    "has its worker killed after interruptGrace; the consumer stops, and a fresh worker takes the next stream",
    () =>
      Effect.gen(function* () {
        const first = yield* ProcessPool.stream(S.stuck, 7).pipe(Stream.take(1), Stream.runCollect)
        assert.deepStrictEqual(first, [7])
        const stats = yield* ProcessPool.stats
        assert.strictEqual(stats.crashed, 0, "killed by the pool, not crashed")
        assert.deepStrictEqual(yield* ProcessPool.stream(S.count, 2).pipe(Stream.runCollect), [0, 1])
        assert.strictEqual((yield* ProcessPool.stats).restarted, 1)
      }).pipe(Effect.provide(pool({ interruptGrace: "300 millis" })))
  )
})

describe("stream: failures", () => {
  it.live("a typed failure ends the stream with that error, after the elements before it", () =>
    Effect.gen(function* () {
      const { elements, exit } = yield* collect(ProcessPool.stream(S.failsAfter, 3))
      assert.deepStrictEqual(elements, [0, 1, 2])
      assert.isTrue(Exit.isFailure(exit))
      const error = Cause.squash((exit as Exit.Failure<unknown, unknown>).cause)
      assert.instanceOf(error, S.Boom)
      assert.strictEqual((error as S.Boom).after, 3)
    }).pipe(Effect.provide(pool()))
  )

  it.live("a worker that dies mid-stream ends it with WorkerCrashed after the elements it sent; the pool goes on", () =>
    Effect.gen(function* () {
      const { elements, exit } = yield* collect(ProcessPool.stream(S.crashesAfter, 3))
      assert.deepStrictEqual(elements, [0, 1, 2])
      const reason = reasonOf(exit)
      assert.strictEqual(reason._tag, "WorkerCrashed")
      assert.strictEqual((reason as ProcessPoolError.WorkerCrashed).exitCode, 7)
      assert.deepStrictEqual(yield* ProcessPool.stream(S.count, 2).pipe(Stream.runCollect), [0, 1])
    }).pipe(Effect.provide(pool()))
  )

  it.live("a worker that exits in the turn it emitted elements sends them before it goes", () =>
    Effect.gen(function* () {
      const { elements, exit } = yield* collect(ProcessPool.stream(S.exitsAtOnce, 0))
      assert.deepStrictEqual(elements, [0, 1, 2])
      assert.strictEqual(reasonOf(exit)._tag, "WorkerCrashed")
    }).pipe(Effect.provide(pool()))
  )

  it.live(
    "an element that does not fit its Schema is a TaskCodecError naming its index, after the ones before it",
    () =>
      Effect.gen(function* () {
        const { elements, exit } = yield* collect(ProcessPool.stream(S.badElement, 4))
        assert.deepStrictEqual(elements, [0, 1, 2, 3])
        const reason = reasonOf(exit) as ProcessPoolError.TaskCodecError
        assert.strictEqual(reason._tag, "TaskCodecError")
        assert.strictEqual(reason.phase, "element")
        assert.strictEqual(reason.index, 4)
        assert.match(reason.message, /element 4 of task "badElement"/)
      }).pipe(Effect.provide(pool()))
  )

  it.live("a task of the other kind is refused with Unsupported, saying which operation runs it", () =>
    Effect.gen(function* () {
      // their types refuse them first (npm run typecheck checks these lines)
      // @ts-expect-error: a streaming task is not a task for run
      const typed = () => ProcessPool.run(S.count, 3)
      // @ts-expect-error: a plain task is not a streaming task for stream
      const typedStream = () => ProcessPool.stream(S.plain, 3)
      assert.isFunction(typed)
      assert.isFunction(typedStream)
      const asPlain = S.count as unknown as typeof S.plain
      const ran = reasonOf(yield* ProcessPool.run(asPlain, 3).pipe(Effect.exit))
      assert.strictEqual(ran._tag, "Unsupported")
      assert.match(ran.message, /streaming task .*ProcessPool\.stream/)
      const mapped = reasonOf(yield* ProcessPool.map(asPlain, [1]).pipe(Effect.exit))
      assert.strictEqual(mapped._tag, "Unsupported")
      const asStream = S.plain as unknown as typeof S.count
      const streamed = reasonOf(yield* ProcessPool.stream(asStream, 3).pipe(Stream.runCollect, Effect.exit))
      assert.strictEqual(streamed._tag, "Unsupported")
      assert.match(streamed.message, /not a streaming task/)
    }).pipe(Effect.provide(pool()))
  )
})

describe("stream: hostile tasks and bad input", () => {
  it.live("a run that throws, or returns what is not a Stream, is a defect naming it; the worker goes on", () =>
    Effect.gen(function* () {
      const threw = yield* ProcessPool.stream(S.throwsInRun, 1).pipe(Stream.runCollect, Effect.exit)
      assert.isTrue(Exit.isFailure(threw) && Cause.hasDies(threw.cause))
      assert.match(String(Cause.squash((threw as Exit.Failure<unknown, unknown>).cause)), /run threw/)
      const returned = yield* ProcessPool.stream(S.notAStream, 42).pipe(Stream.runCollect, Effect.exit)
      assert.isTrue(Exit.isFailure(returned) && Cause.hasDies(returned.cause))
      assert.match(
        String(Cause.squash((returned as Exit.Failure<unknown, unknown>).cause)),
        /run of streaming task "notAStream" returned 42, not a Stream/
      )
      assert.deepStrictEqual(yield* ProcessPool.stream(S.count, 2).pipe(Stream.runCollect), [0, 1])
      assert.strictEqual((yield* ProcessPool.stats).crashed, 0)
    }).pipe(Effect.provide(pool()))
  )

  it.live("a payload that does not fit is a TaskCodecError in the parent; a bad bufferSize dies naming it", () =>
    Effect.gen(function* () {
      const payload = reasonOf(
        yield* ProcessPool.stream(S.count, "x" as unknown as number).pipe(Stream.runCollect, Effect.exit)
      ) as ProcessPoolError.TaskCodecError
      assert.strictEqual(payload._tag, "TaskCodecError")
      assert.strictEqual(payload.phase, "payload")
      const bad = yield* ProcessPool.stream(S.count, 1, { bufferSize: 0 }).pipe(Stream.runCollect, Effect.exit)
      assert.isTrue(Exit.isFailure(bad) && Cause.hasDies(bad.cause))
      assert.match(String(Cause.squash((bad as Exit.Failure<unknown, unknown>).cause)), /`bufferSize`.*got `0`/)
    }).pipe(Effect.provide(pool()))
  )
})

describe("stream: the pool closing", () => {
  it.live("interrupts a stream in its worker: its finalizer runs there before the pool's scope has closed", () =>
    Effect.gen(function* () {
      const marker = tmpFile("produced")
      const exit = yield* Effect.scoped(
        Effect.gen(function* () {
          const pool = yield* ProcessPool.make({ maxWorkers: 1 })
          const consumer = yield* Effect.forkDetach(pool.stream(S.endless, marker).pipe(Stream.runDrain), {
            startImmediately: true
          })
          yield* eventually(
            Effect.sync(() => produced(marker)),
            (n) => n > 0,
            15_000
          )
          return consumer
        })
      ).pipe(Effect.flatMap(Fiber.await))
      assert.isTrue(Exit.hasInterrupts(exit), "the consumer ends interrupted")
      assert.strictEqual(readLines(`${marker}.end`).length, 1)
    })
  )
})

describe("stream: its worker", () => {
  it.live("is held until the stream ends: it counts as busy, and other work waits for another worker", () =>
    Effect.gen(function* () {
      const marker = tmpFile("produced")
      const pull = yield* Stream.toPull(ProcessPool.stream(S.endless, marker, { bufferSize: 2 }))
      yield* pull
      const ran = yield* Effect.forkChild(ProcessPool.run(S.plain, 1), { startImmediately: true })
      yield* Effect.sleep(200)
      const during = yield* ProcessPool.stats
      assert.strictEqual(during.busy, 1)
      assert.strictEqual(during.queued, 1)
      assert.isUndefined(ran.pollUnsafe(), "the run waits while the stream holds the only worker")
      yield* pull
      yield* Effect.sleep(200)
      assert.isUndefined(ran.pollUnsafe())
      return ran
    }).pipe(
      Effect.scoped,
      // the stream's scope closed: its worker is free, and the run it held back runs there
      Effect.flatMap((ran) => Fiber.join(ran)),
      Effect.map((n) => assert.strictEqual(n, 1)),
      Effect.provide(pool())
    )
  )
})
