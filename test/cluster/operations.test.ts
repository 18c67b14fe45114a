/**
 * Every operation of `ProcessPool` over a real cluster: PostgreSQL, two runner
 * processes of two workers each, this process as a client-only member.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Logger, Option, type Scope, Stream } from "effect"
import { ProcessPool } from "../../src/index.ts"
import * as T from "../fixtures/cluster/tasks.ts"
import * as S from "../fixtures/streamTasks.ts"
import { eventually } from "../helpers/eventually.ts"
import { assertDies, defectOf } from "../helpers/exits.ts"
import { readLines } from "../helpers/files.ts"
import { layer as clusterLayer, markerFile, TestCluster } from "./helpers/cluster.ts"

const spins = (n: number, ms: number) => Array.from({ length: n }, (_, i) => ({ i, ms }))

/** Provides a client pool over the file's cluster to `effect`. */
const onCluster = <A, E>(effect: Effect.Effect<A, E, ProcessPool.ProcessPool | TestCluster | Scope.Scope>) =>
  Effect.flatMap(TestCluster, (cluster) => Effect.provide(effect, cluster.client()))

layer(clusterLayer({ runners: 2, maxWorkers: 2 }), { excludeTestServices: true, timeout: "60 seconds" })(
  "a pool over a cluster",
  (it) => {
    describe("run and submit", () => {
      it.effect("run answers through the task's Schemas, computed on a runner's worker", () =>
        onCluster(
          Effect.gen(function* () {
            const cluster = yield* TestCluster
            const where = yield* ProcessPool.run(T.spin, { i: 7, ms: 1 })
            assert.strictEqual(where.i, 7)
            assert.include(
              cluster.runners.map((r) => r.pid),
              where.runner
            )
            assert.notStrictEqual(where.worker, process.pid)
            assert.strictEqual(yield* ProcessPool.run(T.checked, 1), 2)
          })
        )
      )

      it.effect("submit returns a fiber at once", () =>
        onCluster(
          Effect.gen(function* () {
            const fiber = yield* ProcessPool.submit(T.checked, 41)
            assert.strictEqual(yield* Fiber.join(fiber), 42)
          })
        )
      )
    })

    describe("map", () => {
      it.effect("keeps input order, and spreads the work over both runners evenly", () =>
        onCluster(
          Effect.gen(function* () {
            const cluster = yield* TestCluster
            const out = yield* ProcessPool.map(T.spin, spins(80, 10))
            assert.deepStrictEqual(
              out.map((o) => o.i),
              Array.from({ length: 80 }, (_, i) => i)
            )
            const [a, b] = cluster.runners.map((r) => out.filter((o) => o.runner === r.pid).length)
            // pull-based credit: each runner takes what its workers free up; a hash of ids gave 150/50
            assert.isAtLeast(Math.min(a!, b!), 25, `split ${a}/${b}`)
          })
        )
      )

      it.effect("fails with the earliest failing input's typed error, as locally", () =>
        onCluster(
          Effect.gen(function* () {
            const inputs = [1, 2, 300, 4, 200, 6]
            const error = yield* Effect.flip(ProcessPool.map(T.checked, inputs, { chunksize: 1 }))
            assert.instanceOf(error, T.TooLarge)
            assert.strictEqual((error as T.TooLarge).n, 300)
          })
        )
      )

      it.effect("tiny tasks travel in chunks that grow (auto)", () =>
        onCluster(
          Effect.gen(function* () {
            const inputs = Array.from({ length: 20_000 }, (_, i) => i % 100)
            const start = performance.now()
            const out = yield* ProcessPool.map(T.checked, inputs)
            assert.strictEqual(out.length, 20_000)
            assert.strictEqual(out[19_999], 100)
            // one chunk per input would take ~3 ms of CPU each: well over 10 s on this machine
            assert.isBelow(performance.now() - start, 10_000)
          })
        )
      )
    })

    describe("mapStream", () => {
      it.effect("is lazy: an endless input is read only as far as the results are taken", () =>
        onCluster(
          Effect.gen(function* () {
            let read = 0
            const naturals = function* () {
              for (let i = 0; ; i++) {
                read++
                yield { i, ms: 1 }
              }
            }
            const out = yield* ProcessPool.mapStream(T.spin, naturals(), { chunksize: 1, bufferSize: 3 }).pipe(
              Stream.take(5),
              Stream.runCollect
            )
            assert.deepStrictEqual(
              out.map((o) => o.i),
              [0, 1, 2, 3, 4]
            )
            // at most bufferSize chunks in flight beyond what was taken
            assert.isAtMost(read, 5 + 3 + 1)
          })
        )
      )
    })

    describe("asCompleted", () => {
      it.effect("gives every input once, in completion order, failures as failed exits", () =>
        onCluster(
          Effect.gen(function* () {
            const out = yield* ProcessPool.asCompleted(T.checked, [1, 500, 3], { chunksize: 1 }).pipe(Stream.runCollect)
            assert.deepStrictEqual(out.map((c) => c.index).sort(), [0, 1, 2])
            const failed = out.find((c) => c.index === 1)!
            assert.isTrue(Exit.isFailure(failed.exit))
            assert.strictEqual(failed.input, 500)
          })
        )
      )
    })

    describe("stats", () => {
      it.effect("sums the runners' workers, and counts this client's inputs", () =>
        onCluster(
          Effect.gen(function* () {
            yield* ProcessPool.map(T.spin, spins(8, 5), { chunksize: 1 })
            const stats = yield* eventually(ProcessPool.stats, (s) => s.workers === 4, 5_000)
            assert.strictEqual(stats.workers, 4) // 2 runners × 2 workers, all started by now
            assert.strictEqual(stats.completed, 8)
          })
        )
      )
    })

    describe("errors", () => {
      it.effect("a defect keeps the worker's stack, and Cause.pretty names its worker, task and runner first", () =>
        onCluster(
          Effect.gen(function* () {
            const exit = yield* Effect.exit(ProcessPool.run(T.die, "out of range"))
            assertDies(exit)
            const defect = defectOf(exit)
            assert.strictEqual(defect.name, "RangeError")
            assert.strictEqual(defect.message, "out of range")
            const pretty = Cause.pretty(exit.cause).split("\n")
            assert.strictEqual(pretty[0], "RangeError: out of range")
            assert.match(pretty[1]!, /^ {4}at effect-process-pool worker \d+ \(pid \d+\), task "die"$/)
            assert.match(pretty[2]!, /^ {4}at effect-process-pool runner 127\.0\.0\.1:\d+ \(pid \d+\)$/)
            assert.match(pretty[3]!, /fixtures\/cluster\/tasks\.ts/)
          })
        )
      )
    })

    describe("hostile code", () => {
      it.effect("a task that kills its worker fails with WorkerCrashed; the runner's pool heals", () =>
        onCluster(
          Effect.gen(function* () {
            const error = yield* Effect.flip(ProcessPool.run(T.exits, 70))
            assert.strictEqual(error._tag, "ProcessPoolError")
            assert.strictEqual((error as { reason: { _tag: string } }).reason._tag, "WorkerCrashed")
            assert.strictEqual((error as { reason: { exitCode: number } }).reason.exitCode, 70)
            assert.strictEqual(yield* ProcessPool.run(T.checked, 1), 2)
          })
        )
      )
    })

    describe("interruption", () => {
      it.effect("a timeout interrupts the task in the runner's worker, and returns promptly", () =>
        onCluster(
          Effect.gen(function* () {
            const marker = yield* markerFile("sleeper.log")
            const start = Date.now()
            const result = yield* ProcessPool.run(T.sleeper, { ms: 5_000, marker }).pipe(
              Effect.timeoutOption("500 millis")
            )
            const took = Date.now() - start
            assert.isTrue(Option.isNone(result))
            // the caller resumes once the worker has confirmed: its finalizer has run
            assert.isTrue(
              readLines(marker).some((l) => l.startsWith("interrupted")),
              readLines(marker).join("; ")
            )
            assert.isBelow(took, 2_000)
          })
        )
      )

      it.effect("interrupting map stops the chunks in flight and never sends the queued ones", () =>
        onCluster(
          Effect.gen(function* () {
            const marker = yield* markerFile("map.log")
            const inputs = Array.from({ length: 40 }, () => ({ ms: 3_000, marker }))
            yield* ProcessPool.map(T.sleeper, inputs, { chunksize: 1 }).pipe(Effect.timeoutOption("800 millis"))
            const lines = readLines(marker)
            const started = lines.filter((l) => l.startsWith("started")).length
            // credit: 2 runners × 2 workers × 2 chunks, of which the running ones started
            assert.isAtMost(started, 8)
            assert.strictEqual(lines.filter((l) => l.startsWith("interrupted")).length, started)
          })
        )
      )
    })

    describe("streaming tasks", () => {
      it.effect("run through the cluster; a plain task given to stream is still refused with Unsupported", () =>
        onCluster(
          Effect.gen(function* () {
            assert.deepStrictEqual(yield* ProcessPool.stream(S.count, 3).pipe(Stream.runCollect), [0, 1, 2])
            const exit = yield* ProcessPool.stream(S.plain as never, 3).pipe(Stream.runCollect, Effect.exit)
            assert.isTrue(Exit.isFailure(exit))
            const error = Cause.squash((exit as Exit.Failure<unknown, unknown>).cause) as {
              reason: { _tag: string; operation: string; message: string }
            }
            assert.strictEqual(error.reason._tag, "Unsupported")
            assert.strictEqual(error.reason.operation, "stream")
            assert.match(error.reason.message, /is not a streaming task/)
            // nothing was sent: the cluster still serves
            assert.strictEqual(yield* ProcessPool.run(T.checked, 1), 2)
          })
        )
      )
    })

    describe("observability", () => {
      it.effect(
        "a worker's logs reach the caller's logger, and its span is in the caller's trace, under the runner's",
        () =>
          onCluster(
            Effect.gen(function* () {
              const seen: Array<string> = []
              const capture = Logger.make(({ message }) => {
                seen.push((message as ReadonlyArray<unknown>).map(String).join(" "))
              })
              const [caller, worker] = yield* Effect.gen(function* () {
                const span = yield* Effect.currentSpan
                return [span, yield* ProcessPool.run(T.traced, 5)] as const
              }).pipe(Effect.withSpan("caller"), Effect.provide(Logger.layer([capture])))
              // one trace across both hops: the worker's span is a child of the runner's, not the caller's
              assert.strictEqual(worker.traceId, caller.traceId)
              assert.notStrictEqual(worker.parentSpanId, "")
              assert.notStrictEqual(worker.parentSpanId, caller.spanId)
              yield* eventually(
                Effect.sync(() => seen),
                (lines) => lines.includes("hello 5"),
                2_000
              )
            })
          )
      )
    })
  }
)
