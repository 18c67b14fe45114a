/**
 * Runners that die and runners that join, on a real cluster: what is lost,
 * what runs twice (at-least-once, counted), how fast the work moves.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Exit, Fiber, Metric, Stream } from "effect"
import * as Cluster from "../../src/Cluster.ts"
import { ProcessPool } from "../../src/index.ts"
import * as T from "../fixtures/cluster/tasks.ts"
import { eventually } from "../helpers/eventually.ts"
import { readLines } from "../helpers/files.ts"
import { layer as clusterLayer, markerFile, TestCluster } from "./helpers/cluster.ts"

/** Tests that start runners: a runner's start and its join take 2 s on a quiet machine, 10–15 s beside two busy loops. */
const RUNNER_TEST_MS = 90_000

/** `<i> <runner pid> <ms since epoch>` lines of `marked` */
const runs = (marker: string) =>
  readLines(marker).map((line) => {
    const [i, runner, at] = line.split(" ").map(Number)
    return { i: i!, runner: runner!, at: at! }
  })

layer(clusterLayer({ runners: 2, maxWorkers: 2 }), { excludeTestServices: true, timeout: "90 seconds" })(
  "runners that come and go",
  (it) => {
    describe("a runner SIGKILLed in the middle of a map", () => {
      it.effect("loses no input; what runs again is counted; the work moves within 5 s", () =>
        Effect.gen(function* () {
          const cluster = yield* TestCluster
          const marker = yield* markerFile("marked.log")
          const before = (yield* Metric.value(Cluster.redelivered)).count
          const inputs = Array.from({ length: 60 }, (_, i) => ({ i, ms: 150, marker }))
          yield* Effect.gen(function* () {
            const fiber = yield* ProcessPool.map(T.marked, inputs, { chunksize: 1 }).pipe(Effect.forkChild)
            const victim = cluster.runners[0]!
            // kill it while it runs some of the map's inputs
            yield* eventually(
              Effect.sync(() => runs(marker).filter((r) => r.runner === victim.pid).length),
              (n) => n >= 4,
              10_000
            )
            const killedAt = Date.now()
            victim.kill()
            const out = yield* Fiber.join(fiber)

            // every input ends with its result (none lost), in input order
            assert.deepStrictEqual(
              out.map((o) => o.i),
              inputs.map((x) => x.i)
            )
            const lines = runs(marker)
            const counts = new Map<number, number>()
            for (const { i } of lines) counts.set(i, (counts.get(i) ?? 0) + 1)
            const twice = [...counts].filter(([, n]) => n > 1).map(([i]) => i)
            // every re-run is counted: at least as many inputs resent as ran twice
            const resent = (yield* Metric.value(Cluster.redelivered)).count - before
            assert.isAtLeast(resent, twice.length)
            assert.isAtLeast(resent, 1, "the victim held chunks when it died")
            // the resent inputs ran again on the survivor, soon after the kill
            const firstResend = Math.min(
              ...lines.filter(({ at, runner }) => at > killedAt && runner !== victim.pid).map(({ at }) => at)
            )
            const resendStarted = Math.min(
              ...lines
                .filter(
                  ({ i, at }) =>
                    at > killedAt && (twice.includes(i) || !lines.some((l) => l.i === i && l.at < killedAt))
                )
                .map(({ at }) => at)
            )
            assert.isBelow(firstResend - killedAt, 5_000)
            assert.isBelow(
              resendStarted - killedAt,
              5_000,
              `resent work started ${resendStarted - killedAt} ms after the kill`
            )
            for (const { runner, at } of lines) if (at > killedAt + 100) assert.notStrictEqual(runner, victim.pid)
          }).pipe(Effect.provide(cluster.client()))
        })
      )
    })

    describe("a runner stopped gracefully (SIGTERM) in the middle of a map", () => {
      it.effect(
        "hands its chunks back: they run on the others, none is lost",
        () =>
          Effect.gen(function* () {
            const cluster = yield* TestCluster
            const marker = yield* markerFile("stopped.log")
            // inputs for as long as it takes the new runner to join, take work and leave (load makes
            // that anything from 3 to 20 s), then 40 more: the map goes on after its chunks are back
            let left = false
            let made = 0
            const inputs = function* () {
              for (let after = 0; after < 40; ) {
                yield { i: made++, ms: 150, marker }
                if (left) after++
              }
            }
            yield* Effect.gen(function* () {
              const fiber = yield* ProcessPool.mapStream(T.marked, inputs(), { chunksize: 1 }).pipe(
                Stream.runCollect,
                Effect.forkChild
              )
              const leaving = yield* cluster.addRunner()
              yield* eventually(
                Effect.sync(() => runs(marker).filter((r) => r.runner === leaving.pid).length),
                (n) => n >= 2,
                30_000
              )
              yield* leaving.stop
              left = true
              const out = yield* Fiber.join(fiber)
              assert.deepStrictEqual(
                out.map((o) => o.i),
                Array.from({ length: made }, (_, i) => i)
              )
            }).pipe(Effect.provide(cluster.client()))
          }),
        RUNNER_TEST_MS
      )
    })

    describe("a runner that joins mid-run", () => {
      it.effect(
        "takes work",
        () =>
          Effect.gen(function* () {
            const cluster = yield* TestCluster
            const marker = yield* markerFile("joined.log")
            // far more than it takes (the map is stopped once the new runner has run some): joining
            // takes the runner's start and the cluster's next assignment, 3 to 20 s under load
            const inputs = Array.from({ length: 2_000 }, (_, i) => ({ i, ms: 100, marker }))
            yield* Effect.gen(function* () {
              const fiber = yield* ProcessPool.map(T.marked, inputs, { chunksize: 1 }).pipe(Effect.forkChild)
              const joined = yield* cluster.addRunner()
              yield* eventually(
                Effect.sync(() => runs(marker).filter((r) => r.runner === joined.pid).length),
                (n) => n >= 5,
                30_000
              )
              yield* Fiber.interrupt(fiber)
            }).pipe(Effect.provide(cluster.client()))
          }),
        RUNNER_TEST_MS
      )
    })

    describe("no runner", () => {
      it.effect("a task fails with RunnerUnavailable within runnerTimeout, never hangs", () =>
        Effect.gen(function* () {
          const cluster = yield* TestCluster
          yield* Effect.gen(function* () {
            assert.strictEqual((yield* ProcessPool.run(T.checked, 1)) as number, 2)
            for (const runner of cluster.runners) runner.kill()
            for (const runner of cluster.runners) yield* runner.exited
            const start = Date.now()
            const exit = yield* Effect.exit(ProcessPool.run(T.checked, 2))
            assert.isTrue(Exit.isFailure(exit))
            if (Exit.isSuccess(exit)) return
            const error = exit.cause.reasons.find((r) => r._tag === "Fail")
            assert.isDefined(error)
            const failure = (error as { error: { _tag: string; reason: { _tag: string } } }).error
            assert.strictEqual(failure._tag, "ProcessPoolError")
            assert.strictEqual(failure.reason._tag, "RunnerUnavailable")
            // the chunk first goes to a runner not yet known dead; the runners are found lost about
            // pingTimeout after their last answer, then the chunk fails once none has been
            // reachable for runnerTimeout
            assert.isBelow(Date.now() - start, 3_000 + 7_000)
          }).pipe(Effect.provide(cluster.client({ runnerTimeout: "3 seconds" })))
        })
      )
    })
  }
)
