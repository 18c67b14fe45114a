/**
 * Several runners dying at once (issue #18): correlated failures — a rack, a
 * node pool, a deploy — are the common case. Each runner is watched on its
 * own, so every dead runner is found lost about `pingTimeout` after its last
 * answer, however many die together, and their work runs again on the
 * runner that lives, with the default client settings.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { lossLog, type RunnerProcess, settled } from "../../scripts/cluster/harness.ts"
import { ProcessPool } from "../../src/index.ts"
import * as T from "../fixtures/cluster/tasks.ts"
import { eventually } from "../helpers/eventually.ts"
import { readLines } from "../helpers/files.ts"
import { layer as clusterLayer, markerFile, TestCluster } from "./helpers/cluster.ts"

/** Tests that start runners: a runner's start and its join take 2 s on a quiet machine, 10–15 s beside two busy loops. */
const RUNNER_TEST_MS = 90_000

/** Between the two kills of the second test: the first victim's question is out by then (it is due ≤ ~1 s after its kill). */
const STAGGER_MS = 1_200

/** `<i> <runner pid> <ms since epoch>` lines of `marked` */
const runs = (marker: string) =>
  readLines(marker).map((line) => {
    const [i, runner, at] = line.split(" ").map(Number)
    return { i: i!, runner: runner!, at: at! }
  })

/** The bound is the behaviour: failover within 3 s of the kill (2 × the default `pingTimeout`). */
const FAILOVER_MS = 3_000

/**
 * Starts two runners beside the file's survivor, waits until the client
 * knows all three, runs a map of `marked` over them, and kills the two with
 * `kill` once each runs some of the map's inputs. Then checks what must hold
 * whatever the order of the deaths: every input answered, in order; each
 * victim declared lost within `FAILOVER_MS` of its own kill; what they had
 * started runs again on the survivor, and nothing runs on them afterwards.
 */
const killTwo = (kill: (victims: ReadonlyArray<RunnerProcess>) => Effect.Effect<ReadonlyArray<number>>) =>
  Effect.gen(function* () {
    const cluster = yield* TestCluster
    const survivor = cluster.runners[0]!
    const victims = [yield* cluster.addRunner(), yield* cluster.addRunner()]
    yield* settled(cluster.server.url, 3)
    const marker = yield* markerFile("correlated.log")
    const { lost, layer: logs } = lossLog({ mergeWithExisting: true })
    const inputs = Array.from({ length: 36 }, (_, i) => ({ i, ms: 200, marker }))
    yield* Effect.gen(function* () {
      yield* eventually(ProcessPool.stats, (s) => s.workers === 3, 15_000)
      const fiber = yield* ProcessPool.map(T.marked, inputs, { chunksize: 1 }).pipe(Effect.forkChild)
      yield* eventually(
        Effect.sync(() => victims.map((v) => runs(marker).filter((r) => r.runner === v.pid).length)),
        (counts) => counts.every((n) => n >= 2),
        15_000
      )
      const killedAt = yield* kill(victims)
      const out = yield* Fiber.join(fiber)

      assert.deepStrictEqual(
        out.map((o) => o.i),
        inputs.map((x) => x.i)
      )
      victims.forEach((victim, v) => {
        const at = lost.get(`127.0.0.1:${victim.port}`)
        assert.isDefined(at, `runner ${victim.port} was never declared lost`)
        const after = at! - killedAt[v]!
        assert.isBelow(after, FAILOVER_MS, `runner ${victim.port} declared lost ${after} ms after its kill`)
      })
      // what the victims had started runs again on the survivor; nothing runs on them after their kill
      const lines = runs(marker)
      const first = Math.min(...killedAt)
      const again = lines.filter(({ i, at }) => at > first && lines.some((l) => l.i === i && l.at <= first))
      assert.isAbove(again.length, 0)
      for (const { runner } of again) assert.strictEqual(runner, survivor.pid)
      victims.forEach((victim, v) => {
        for (const { runner, at } of lines) if (at > killedAt[v]! + 100) assert.notStrictEqual(runner, victim.pid)
      })
    }).pipe(Effect.provide(Layer.provide(cluster.client(), logs)))
  })

// one runner of the file's own, which lives; each test starts the two it kills
layer(clusterLayer({ runners: 1, maxWorkers: 1 }), { excludeTestServices: true, timeout: "90 seconds" })(
  "correlated deaths",
  (it) => {
    describe("two of three runners SIGKILLed at once in the middle of a map", () => {
      it.effect(
        "both are found lost within 3 s of the kill; their work runs again on the third; nothing is lost",
        () =>
          killTwo((victims) =>
            Effect.sync(() => {
              const at = Date.now()
              for (const victim of victims) victim.kill()
              return [at, at]
            })
          ),
        RUNNER_TEST_MS
      )
    })

    describe("a runner SIGKILLed while the client waits for another dead one's answer", () => {
      it.effect(
        "is found lost within 3 s of its own kill: one dead runner's silence delays no verdict on another",
        () =>
          // the second dies while the client is asking the first whether it is alive (a question
          // waits up to pingTimeout, 1.5 s); with rounds that waited for every answer and then probed
          // the first one's shards, the second was asked only ~3.5 s later, and found lost ~4.5 s after its kill
          killTwo((victims) =>
            Effect.gen(function* () {
              const first = Date.now()
              victims[0]!.kill()
              yield* Effect.sleep(STAGGER_MS)
              const second = Date.now()
              victims[1]!.kill()
              return [first, second]
            })
          ),
        RUNNER_TEST_MS
      )
    })
  }
)
