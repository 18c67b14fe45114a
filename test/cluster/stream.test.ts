/**
 * Streaming tasks through the cluster (`ProcessPool.stream` over
 * `Cluster.layerClient`), on real runners of both worker types: elements in
 * order, credit across both hops (client → runner → worker), the consumer
 * stopping the task on its runner, typed failures and codec errors after
 * the elements before them, and a runner lost mid-stream.
 */
import * as NodeFs from "node:fs"
import { assert, describe, layer, type Vitest } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Layer, Logger, Stream } from "effect"
import * as Scope from "effect/Scope"
import * as H from "../../scripts/cluster/harness.ts"
import * as Cluster from "../../src/Cluster.ts"
import { ProcessPool } from "../../src/index.ts"
import * as T from "../fixtures/cluster/tasks.ts"
import * as S from "../fixtures/streamTasks.ts"
import { eventually } from "../helpers/eventually.ts"
import { readLines } from "../helpers/files.ts"
import { layer as clusterLayer, DEPLOYMENT, markerFile, TestCluster } from "./helpers/cluster.ts"

const onCluster = <A, E>(effect: Effect.Effect<A, E, ProcessPool.ProcessPool | TestCluster | Scope.Scope>) =>
  Effect.flatMap(TestCluster, (cluster) => Effect.provide(effect, cluster.client()))

/** How many elements the `endless` task has produced, as its marker file says. */
const produced = (marker: string): number =>
  NodeFs.existsSync(marker) ? Number(NodeFs.readFileSync(marker, "utf8") || 0) : 0

/** The elements a stream gave before it ended, and how it ended. */
const collect = <A, E, R>(stream: Stream.Stream<A, E, R>) =>
  Effect.gen(function* () {
    const seen: Array<A> = []
    const exit = yield* Stream.runForEach(stream, (a) => Effect.sync(() => seen.push(a))).pipe(Effect.exit)
    return { seen, exit }
  })

/** The `ProcessPoolError` reason a failed exit carries, if any. */
const reasonOf = (exit: Exit.Exit<unknown, unknown>) => {
  assert.isTrue(Exit.isFailure(exit))
  const error = Cause.squash((exit as Exit.Failure<unknown, unknown>).cause) as {
    _tag: string
    reason?: { _tag: string; index?: number; phase?: string; message: string }
  }
  return error
}

/** The tests every runner's worker type must pass. */
const behaviours = (it: Vitest.MethodsNonLive<TestCluster>) => {
  it.effect("elements arrive in order, one per chunk or many at once", () =>
    onCluster(
      Effect.gen(function* () {
        const one = yield* ProcessPool.stream(S.count, 300, { bufferSize: 16 }).pipe(Stream.runCollect)
        assert.deepStrictEqual(
          one,
          Array.from({ length: 300 }, (_, i) => i)
        )
        const many = yield* ProcessPool.stream(S.countChunked, 5_000).pipe(Stream.runCollect)
        assert.deepStrictEqual(
          many,
          Array.from({ length: 5_000 }, (_, i) => i)
        )
      })
    )
  )

  it.effect("a slow consumer of an endless stream keeps what the runner's worker ran ahead bounded", () =>
    onCluster(
      Effect.gen(function* () {
        const marker = yield* markerFile("endless.count")
        const bufferSize = 16
        const taken = yield* ProcessPool.stream(S.endless, marker, { bufferSize }).pipe(
          // the consumer stops pulling for 3 s at its 40th element
          Stream.tap((n) => (n === 39 ? Effect.sleep("3 seconds") : Effect.void)),
          Stream.take(40),
          Stream.runCollect
        )
        assert.deepStrictEqual(
          taken,
          Array.from({ length: 40 }, (_, i) => i)
        )
        // the worker ran ahead by a few buffers (consumer, RPC queue, unacknowledged batch,
        // runner), not by what 3 s of an unbounded loop would make (thousands)
        const ahead = produced(marker) - 40
        assert.isAtMost(ahead, 8 * bufferSize, `the worker ran ${ahead} elements ahead`)
      })
    )
  )

  it.effect(
    "Stream.take interrupts the task on its runner: its finalizer runs there, and the worker serves the next",
    () =>
      onCluster(
        Effect.gen(function* () {
          const marker = yield* markerFile("taken.count")
          const first = yield* ProcessPool.stream(S.endless, marker, { bufferSize: 8 }).pipe(
            Stream.take(5),
            Stream.runCollect
          )
          assert.deepStrictEqual(first, [0, 1, 2, 3, 4])
          // the caller resumed once the stream had stopped in its worker
          const finalized = readLines(`${marker}.end`)
          assert.strictEqual(finalized.length, 1, `finalizers: ${JSON.stringify(finalized)}`)
          assert.match(finalized[0]!, /^finalized /)
          // the runner's only worker is free: a task and a stream run after it
          assert.strictEqual(yield* ProcessPool.run(T.checked, 1).pipe(Effect.timeout("20 seconds")), 2)
          const next = yield* ProcessPool.stream(S.count, 3).pipe(Stream.runCollect, Effect.timeout("20 seconds"))
          assert.deepStrictEqual(next, [0, 1, 2])
        })
      )
  )

  it.effect("a typed failure ends the stream with that error, after the elements before it", () =>
    onCluster(
      Effect.gen(function* () {
        const { exit, seen } = yield* collect(ProcessPool.stream(S.failsAfter, 3))
        assert.deepStrictEqual(seen, [0, 1, 2])
        const error = reasonOf(exit)
        assert.instanceOf(error, S.Boom)
        assert.strictEqual((error as unknown as S.Boom).after, 3)
      })
    )
  )

  it.effect(
    "a worker that dies mid-stream ends it with WorkerCrashed after the elements before it; the runner goes on",
    () =>
      onCluster(
        Effect.gen(function* () {
          const { exit, seen } = yield* collect(ProcessPool.stream(S.crashesAfter, 3))
          assert.deepStrictEqual(seen, [0, 1, 2])
          const error = reasonOf(exit)
          assert.strictEqual(error.reason?._tag, "WorkerCrashed")
          assert.deepStrictEqual(yield* ProcessPool.stream(S.count, 2).pipe(Stream.runCollect), [0, 1])
        })
      )
  )

  it.effect("an element that does not fit its Schema fails with TaskCodecError naming its index", () =>
    onCluster(
      Effect.gen(function* () {
        const { exit, seen } = yield* collect(ProcessPool.stream(S.badElement, 4))
        assert.deepStrictEqual(seen, [0, 1, 2, 3])
        const error = reasonOf(exit)
        assert.strictEqual(error._tag, "ProcessPoolError")
        assert.strictEqual(error.reason?._tag, "TaskCodecError")
        assert.strictEqual(error.reason?.phase, "element")
        assert.strictEqual(error.reason?.index, 4)
      })
    )
  )
}

layer(clusterLayer({ runners: 1, maxWorkers: 1 }), { excludeTestServices: true, timeout: "90 seconds" })(
  "streaming tasks through a runner on processes",
  (it) => {
    describe("workerType: process", () => behaviours(it))

    describe("observability", () => {
      it.effect("the worker's logs reach the caller's logger as the stream goes, with its task layer", () =>
        onCluster(
          Effect.gen(function* () {
            const seen: Array<string> = []
            const capture = Logger.make(({ message }) => {
              seen.push((message as ReadonlyArray<unknown>).map(String).join(" "))
            })
            const lines = yield* ProcessPool.stream(S.prefixed, "a\nb\nc").pipe(
              Stream.runCollect,
              Effect.provide(Logger.layer([capture]))
            )
            assert.deepStrictEqual(lines, ["> a", "> b", "> c"])
            assert.deepStrictEqual(
              seen.filter((line) => line.startsWith("line ")),
              ["line a", "line b", "line c"]
            )
          })
        )
      )
    })

    describe("tracing", () => {
      it.effect("the worker's span for the stream is in the caller's trace", () =>
        onCluster(
          Effect.gen(function* () {
            const [caller, worker] = yield* Effect.gen(function* () {
              const span = yield* Effect.currentSpan
              const elements = yield* ProcessPool.stream(S.traced, 1).pipe(Stream.runCollect)
              return [span, elements[0]!] as const
            }).pipe(Effect.withSpan("caller"))
            assert.strictEqual(worker.traceId, caller.traceId)
          })
        )
      )
    })

    describe("a client that goes away mid-stream", () => {
      it.effect("its stream stops on the runner (finalizers run there) and the runner's worker serves the next", () =>
        Effect.gen(function* () {
          const cluster = yield* TestCluster
          const marker = yield* markerFile("gone.count")
          // a second client-only member of its own, whose connections close with its scope, with no
          // `Stop` sent first: the runner sees only its request's caller go
          const memberScope = yield* Scope.make()
          const sharding = yield* Layer.buildWithScope(H.clientSharding(cluster.server.url), memberScope)
          const poolScope = yield* Scope.make()
          const pool = yield* Layer.buildWithScope(
            Cluster.layerClient({ deployment: DEPLOYMENT }).pipe(Layer.provide(Layer.succeedContext(sharding))),
            poolScope
          )
          const fiber = yield* ProcessPool.stream(S.endless, marker, { bufferSize: 4 }).pipe(
            Stream.runDrain,
            Effect.provide(pool),
            Effect.forkChild
          )
          yield* eventually(
            Effect.sync(() => produced(marker)),
            (n) => n >= 4,
            20_000
          )
          yield* Scope.close(memberScope, Exit.void)
          yield* eventually(
            Effect.sync(() => readLines(`${marker}.end`).length),
            (n) => n === 1,
            20_000
          )
          yield* Fiber.interrupt(fiber).pipe(Effect.timeout("10 seconds"), Effect.ignore)
          yield* Scope.close(poolScope, Exit.void).pipe(Effect.timeout("15 seconds"), Effect.ignore)
          yield* onCluster(ProcessPool.run(T.checked, 1).pipe(Effect.timeout("20 seconds")))
        })
      )
    })

    describe("maxQueue", () => {
      it.effect("a stream takes one place in the client's queue, and waits for room as a run does", () =>
        Effect.gen(function* () {
          const cluster = yield* TestCluster
          const marker = yield* markerFile("held.log")
          yield* Effect.gen(function* () {
            // holds the runner's only worker, and the client's one place of credit on it
            const held = yield* ProcessPool.stream(T.ticks, marker, { bufferSize: 1 }).pipe(
              Stream.runDrain,
              Effect.forkChild({ startImmediately: true })
            )
            yield* eventually(ProcessPool.stats, (s) => s.busy === 1)
            const second = yield* ProcessPool.stream(S.count, 3).pipe(
              Stream.runCollect,
              Effect.forkChild({ startImmediately: true })
            )
            yield* eventually(ProcessPool.stats, (s) => s.queued === 1)
            const third = yield* ProcessPool.stream(S.count, 4).pipe(
              Stream.runCollect,
              Effect.forkChild({ startImmediately: true })
            )
            const full = yield* eventually(ProcessPool.stats, (s) => s.waiting === 1)
            assert.strictEqual(full.queued, 1, "the client's queue holds maxQueue streams")
            yield* Fiber.interrupt(held)
            assert.deepStrictEqual(yield* Fiber.join(second), [0, 1, 2])
            assert.deepStrictEqual(yield* Fiber.join(third), [0, 1, 2, 3])
          }).pipe(Effect.provide(cluster.client({ maxQueue: 1, chunksPerWorker: 1 })))
        })
      )
    })
  }
)

layer(clusterLayer({ runners: 1, maxWorkers: 1, workerType: "thread" }), {
  excludeTestServices: true,
  timeout: "90 seconds"
})("streaming tasks through a runner on threads", (it) => {
  describe("workerType: thread", () => behaviours(it))
})

layer(clusterLayer({ runners: 2, maxWorkers: 1 }), { excludeTestServices: true, timeout: "90 seconds" })(
  "a runner lost mid-stream",
  (it) => {
    it.effect(
      "ends the stream with RunnerUnavailable within a bound; the stream is not run again elsewhere, no element comes twice",
      () =>
        Effect.gen(function* () {
          const cluster = yield* TestCluster
          const marker = yield* markerFile("lost.log")
          yield* Effect.gen(function* () {
            const seen: Array<{ i: number; runner: number }> = []
            const fiber = yield* ProcessPool.stream(T.ticks, marker, { bufferSize: 8 }).pipe(
              Stream.runForEach((e) => Effect.sync(() => seen.push(e))),
              Effect.exit,
              Effect.forkChild
            )
            yield* eventually(
              Effect.sync(() => seen.length),
              (n) => n >= 10,
              20_000
            )
            const victim = cluster.runners.find((r) => r.pid === seen[0]!.runner)!
            const killedAt = Date.now()
            victim.kill()
            const exit = yield* Fiber.join(fiber).pipe(Effect.timeout("30 seconds"))
            const error = reasonOf(exit)
            assert.strictEqual(error.reason?._tag, "RunnerUnavailable")
            assert.match(error.reason!.message, /not sent again once elements have come/)
            // the client finds it lost within pingInterval + pingTimeout; generous under load
            assert.isBelow(Date.now() - killedAt, 20_000)
            // every element once, in order, all from the victim: the survivor never started it
            assert.deepStrictEqual(
              seen.map((e) => e.i),
              Array.from({ length: seen.length }, (_, i) => i)
            )
            for (const e of seen) assert.strictEqual(e.runner, victim.pid)
            assert.deepStrictEqual(readLines(marker), [`started ${victim.pid}`])
            // the survivor serves
            assert.strictEqual(yield* ProcessPool.run(T.checked, 1), 2)
          }).pipe(Effect.provide(cluster.client()))
        })
    )
  }
)

layer(clusterLayer({ runners: 2, maxWorkers: 1 }), { excludeTestServices: true, timeout: "90 seconds" })(
  "a runner lost before its stream delivered anything",
  (it) => {
    it.effect("the stream is sent to another runner and runs there from the start", () =>
      Effect.gen(function* () {
        const cluster = yield* TestCluster
        const marker = yield* markerFile("late.log")
        yield* Effect.gen(function* () {
          const fiber = yield* ProcessPool.stream(T.lateTicks, { marker, ms: 4_000, count: 5 }).pipe(
            Stream.runCollect,
            Effect.forkChild
          )
          const [first] = yield* eventually(
            Effect.sync(() => readLines(marker)),
            (lines) => lines.length >= 1,
            20_000
          )
          const victim = cluster.runners.find((r) => `started ${r.pid}` === first)!
          victim.kill()
          const out = yield* Fiber.join(fiber).pipe(Effect.timeout("40 seconds"))
          const survivor = cluster.runners.find((r) => r !== victim)!
          assert.deepStrictEqual(
            out.map((e) => e.i),
            [0, 1, 2, 3, 4]
          )
          for (const e of out) assert.strictEqual(e.runner, survivor.pid)
          assert.deepStrictEqual(readLines(marker), [`started ${victim.pid}`, `started ${survivor.pid}`])
        }).pipe(Effect.provide(cluster.client()))
      })
    )
  }
)
