import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { ProcessPool } from "../../src/index.ts"
import * as T from "../fixtures/tasks.ts"
import { eventually } from "../helpers/eventually.ts"
import { reasonOf } from "../helpers/exits.ts"
import { readLines, tmpFile } from "../helpers/files.ts"
import { onProcesses } from "../helpers/kind.ts"

describe("maxTasksPerWorker", () => {
  it.live("replaces a worker after that many tasks", () =>
    Effect.gen(function* () {
      const pids: Array<number> = []
      for (let i = 0; i < 7; i++) pids.push(yield* ProcessPool.run(T.whoami, i))
      const runs = pids.filter((pid, i) => i === 0 || pid !== pids[i - 1])
      assert.strictEqual(runs.length, 4) // a, a, b, b, c, c, d
      for (const pid of runs.slice(0, 3)) assert.strictEqual(pids.filter((p) => p === pid).length, 2)
      assert.strictEqual((yield* ProcessPool.stats).restarted, 3)
    }).pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 1, maxTasksPerWorker: 2 })))
  )

  it.live("starts the replacement while the worker runs its last task", () =>
    Effect.gen(function* () {
      const marker = tmpFile("marker")
      const last = yield* ProcessPool.submit(T.sleeper, { ms: 30_000, marker })
      yield* eventually(
        Effect.sync(() => readLines(marker)),
        (lines) => lines.length === 1,
        20_000
      )
      // the worker running `last` is not counted against maxWorkers: its
      // replacement is up, and serves, while `last` still runs
      const pid = yield* ProcessPool.run(T.whoami, 0)
      assert.isUndefined(last.pollUnsafe())
      assert.notStrictEqual(pid, Number(readLines(marker)[0]!.split(" ")[1]))
      yield* Fiber.interrupt(last)
      assert.strictEqual((yield* ProcessPool.stats).crashed, 0)
    }).pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 1, maxTasksPerWorker: 1 })))
  )

  it.live("loses no queued work while workers are recycled", () =>
    Effect.gen(function* () {
      const fibers = yield* Effect.forEach(
        Array.from({ length: 40 }, (_, i) => i),
        (n) => ProcessPool.submit(T.square, n)
      )
      const results = yield* Effect.forEach(fibers, Fiber.join)
      assert.deepStrictEqual(
        results,
        Array.from({ length: 40 }, (_, i) => i * i)
      )
      const stats = yield* ProcessPool.stats
      assert.isAtLeast(stats.restarted, 40 / 3 - 2)
      assert.strictEqual(stats.crashed, 0)
    }).pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 2, maxTasksPerWorker: 3 })))
  )
})

describe("idleTimeout", () => {
  it.live("stops workers idle that long, down to minWorkers", () =>
    Effect.gen(function* () {
      const fiber = yield* Effect.forEach([600, 600, 600], (ms) => ProcessPool.run(T.sleepPid, ms), {
        concurrency: "unbounded"
      }).pipe(Effect.forkChild({ startImmediately: true }))
      yield* eventually(ProcessPool.stats, (s) => s.workers === 3)
      yield* Fiber.join(fiber)
      const after = yield* eventually(ProcessPool.stats, (s) => s.workers === 1, 10_000)
      assert.strictEqual(after.workers, 1)
      yield* Effect.sleep(600)
      assert.strictEqual((yield* ProcessPool.stats).workers, 1) // minWorkers stays
      assert.strictEqual(yield* ProcessPool.run(T.square, 5), 25)
    }).pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 3, minWorkers: 1, idleTimeout: 200 })))
  )
})

describe("maxWorkerMemory", () => {
  // a process's memory is its RSS: a Buffer counts
  it.live.skipIf(!onProcesses)("replaces a worker process whose RSS after a task exceeds the limit", () =>
    Effect.gen(function* () {
      const small = yield* ProcessPool.run(T.hog, 1)
      assert.strictEqual(yield* ProcessPool.run(T.whoami, 0), small) // under the limit: kept
      const big = yield* ProcessPool.run(T.hog, 300)
      assert.strictEqual(big, small)
      const next = yield* eventually(ProcessPool.run(T.whoami, 0), (pid) => pid !== big, 10_000)
      assert.notStrictEqual(next, big)
      const stats = yield* ProcessPool.stats
      assert.strictEqual(stats.restarted, 1)
      assert.strictEqual(stats.crashed, 0)
    }).pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 1, maxWorkerMemory: 250 * 1024 * 1024 })))
  )

  // a thread's memory is its heap: the limit V8 holds it to, and after a job a thread above 3/4 of it is replaced
  it.live.skipIf(onProcesses)("replaces a worker thread whose heap after a task is near the limit", () =>
    Effect.gen(function* () {
      const small = yield* ProcessPool.run(T.heapHog, 1)
      assert.strictEqual(yield* ProcessPool.run(T.whoami, 0), small) // well under the limit: kept
      // a thread that has loaded its task uses ~30 MB of heap: this takes it well past 3/4 of 96 MB, under 96
      const big = yield* ProcessPool.run(T.heapHog, 55)
      assert.strictEqual(big, small)
      const next = yield* eventually(ProcessPool.run(T.whoami, 0), (key) => key !== big, 10_000)
      assert.notStrictEqual(next, big)
      const stats = yield* ProcessPool.stats
      assert.strictEqual(stats.restarted, 1)
      assert.strictEqual(stats.crashed, 0)
    }).pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 1, maxWorkerMemory: 96 * 1024 * 1024 })))
  )

  it.live.skipIf(onProcesses)(
    "fails the task of a thread that grows its heap past the limit with WorkerCrashed, never the process",
    () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(ProcessPool.run(T.heapHog, 400))
        const reason = reasonOf(error)
        assert.strictEqual(reason._tag, "WorkerCrashed")
        assert.match(reason.message, /worker \d+ \(thread \d+\) running task "heapHog" ran out of memory/)
        assert.strictEqual(yield* ProcessPool.run(T.square, 9), 81)
        assert.strictEqual((yield* ProcessPool.stats).crashed, 1)
      }).pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 1, maxWorkerMemory: 64 * 1024 * 1024 })))
  )
})
