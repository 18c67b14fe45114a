/**
 * A hostile task module (fixtures/hostile.ts) against the pool's promises:
 * the parent lives, the pool serves the next task, no input is lost or run
 * twice (counted from the workers' side), and `stats` agrees with what the
 * callers saw.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Logger, Metric, Schema, Stream } from "effect"
import { ProcessPool, type Task } from "../../src/index.ts"
import * as H from "../fixtures/hostile.ts"
import * as O from "../fixtures/observed.ts"
import * as T from "../fixtures/tasks.ts"
import { assertDies, defectOf, reasonOf } from "../helpers/exits.ts"
import { readLines, tmpFile } from "../helpers/files.ts"
import { onProcesses } from "../helpers/kind.ts"

/** How many times each id ran, from the counting file the workers append to. */
const runs = (counter: string): Map<string, number> => {
  const counts = new Map<string, number>()
  for (const line of readLines(counter)) {
    const id = line.slice("run ".length)
    counts.set(id, (counts.get(id) ?? 0) + 1)
  }
  return counts
}

/** Runs enough tiny tasks that the worker's pace is known: it then takes jobs ahead. */
const warmUp = (pool: ProcessPool.Service) =>
  Effect.forEach(
    Array.from({ length: 100 }, (_, i) => i),
    (n) => pool.run(T.square, n),
    { concurrency: "unbounded", discard: true }
  )

const KB = 1024
const MB = 1024 * KB

describe("a worker that dies right after a large answer", () => {
  const sizes = [1 * KB, 200 * KB, 1 * MB, 16 * MB]
  // SIGKILL of its own pid from a thread would end the whole process (and the test)
  const ends: ReadonlyArray<H.Ends> = onProcesses
    ? ["exit", "sigkill", "throwInTimer", "rejectInTimer"]
    : ["exit", "throwInTimer", "rejectInTimer"]

  it.live(
    "delivers the answer, fails only the job that ended the process, and runs the held ones once",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const pool = yield* ProcessPool.make({ stdio: "log", maxWorkers: 1 })
          const counter = tmpFile("runs")
          let crashes = 0
          for (const size of sizes) {
            for (const how of ends) {
              yield* warmUp(pool)
              const id = `${size}-${how}`
              const input = (part: string, ends: H.Ends, size: number) => ({ id: `${id}-${part}`, counter, size, ends })
              // submitted at once: one batch, so the worker holds the second and third ahead
              const fibers = yield* Effect.forEach(
                [input("answers", "no", size), input("ends", how, 0), input("after", "no", 1)],
                (payload) => pool.submit(H.answerOrEnd, payload)
              )
              const [answered, ended, after] = yield* Effect.forEach(fibers, Fiber.await)
              assert.isTrue(Exit.isSuccess(answered), `${id}: the finished answer is delivered`)
              if (Exit.isSuccess(answered)) assert.strictEqual(answered.value.length, size)
              assert.isTrue(Exit.isFailure(ended), `${id}: the job that ended the process fails`)
              if (Exit.isFailure(ended)) assert.strictEqual(reasonOf(Cause.squash(ended.cause))._tag, "WorkerCrashed")
              crashes++
              assert.isTrue(Exit.isSuccess(after), `${id}: the job held behind runs on the replacement`)
              const counts = runs(counter)
              for (const part of ["answers", "ends", "after"]) {
                assert.strictEqual(counts.get(`${id}-${part}`), 1, `${id}-${part} ran once`)
              }
            }
          }
          const stats = yield* pool.stats
          assert.strictEqual(stats.crashed, crashes)
          assert.strictEqual(stats.failed, crashes)
          assert.strictEqual(yield* pool.run(T.square, 12), 144)
        })
      ),
    120_000
  )

  it.live("a map whose chunks answer big values: a crash fails one chunk, the others run once", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ stdio: "log", maxWorkers: 2 })
        const counter = tmpFile("runs")
        yield* warmUp(pool)
        const inputs = Array.from({ length: 40 }, (_, i) => ({
          id: String(i),
          counter,
          size: i % 4 === 0 ? 1 * MB : 10,
          ends: (i === 21 ? "exit" : "no") as H.Ends
        }))
        const elements = yield* pool.asCompleted(H.answerOrEnd, inputs, { chunksize: 1 }).pipe(Stream.runCollect)
        assert.strictEqual(elements.length, inputs.length)
        const failed = elements.filter((e) => Exit.isFailure(e.exit)).map((e) => e.index)
        assert.deepStrictEqual(failed, [21])
        const counts = runs(counter)
        for (const input of inputs) assert.strictEqual(counts.get(input.id), 1, `input ${input.id} ran once`)
        const stats = yield* pool.stats
        assert.strictEqual(stats.crashed, 1)
        assert.strictEqual(stats.failed, 1)
      })
    )
  )
})

describe("anything a task writes to the process's channels", () => {
  // fds 3 and 4 are a process's channel; in a thread they are the whole process's, not to be written by a test
  const kinds: ReadonlyArray<H.Writes> = onProcesses
    ? H.Writes.literals
    : H.Writes.literals.filter((w) => !w.startsWith("fd"))
  it.live("the parent lives, the answer arrives, the pool serves the next task; only garbage costs the worker", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ stdio: "log", maxWorkers: 1 })
        const counter = tmpFile("runs")
        const crashes = 0
        let completed = 0
        for (const writes of kinds) {
          const pid = yield* pool.run(T.whoami, 0)
          const exit = yield* Effect.exit(pool.run(H.writesThenAnswers, { n: 7, writes, counter, id: `${writes}` }))
          // the parent cannot resynchronise `advanced` frames, but JSON lines it can: nothing is lost
          assert.deepStrictEqual(exit, Exit.succeed(7), writes)
          completed += 2
          assert.strictEqual(yield* pool.run(T.whoami, 0), pid, `${writes}: the same worker serves on`)
          assert.strictEqual(runs(counter).get(writes), 1)
        }
        const stats = yield* pool.stats
        assert.strictEqual(stats.crashed, crashes)
        assert.strictEqual(stats.failed, 0)
        assert.isAtLeast(stats.completed, completed)
      })
    )
  )

  it.live.skipIf(!onProcesses)(
    "with advanced framing, bytes written by hand break the channel: that worker is killed, nothing else",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const pool = yield* ProcessPool.make({ stdio: "log", maxWorkers: 1, serialization: "advanced" })
          const counter = tmpFile("runs")
          const before = yield* pool.run(T.whoami, 0)
          const error = yield* Effect.flip(
            pool.run(H.writesThenAnswers, { n: 7, writes: "fdGarbage" as const, counter, id: "garbage" })
          )
          assert.strictEqual(reasonOf(error)._tag, "WorkerCrashed")
          assert.notStrictEqual(yield* pool.run(T.whoami, 0), before)
          assert.strictEqual(runs(counter).get("garbage"), 1)
          // a task's process.send is not there at all: the same in both framings
          assert.strictEqual(
            yield* pool.run(H.writesThenAnswers, { n: 8, writes: "processSend" as const, counter, id: "send" }),
            8
          )
        })
      )
  )
})

describe("answers a task forges for later callers", () => {
  it.live("are dropped: only the runtime's frames carry its key; later callers get their own answers", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ stdio: "log", maxWorkers: 1 })
        const pid = yield* pool.run(T.whoami, 0)
        assert.strictEqual(yield* pool.run(H.forgesAnswers, 5), 5)
        for (let n = 0; n < 100; n++) assert.strictEqual(yield* pool.run(T.square, n), n * n)
        const mapped = yield* pool.map(T.square, [1, 2, 3, 4, 5, 6], { chunksize: 1 })
        assert.deepStrictEqual(mapped, [1, 4, 9, 16, 25, 36])
        assert.strictEqual(yield* pool.run(T.whoami, 0), pid, "the same worker, its forger's timer still running")
      })
    )
  )
})

describe("a Schema that throws", () => {
  const cases: ReadonlyArray<{ task: Task.Any; phase: string; message: RegExp }> = [
    { task: H.payloadEncodeThrows, phase: "payload", message: /encode refuses 13/ },
    { task: H.payloadDecodeThrows, phase: "payload", message: /decode refuses 13/ },
    { task: H.successEncodeThrows, phase: "success", message: /encode refuses 13/ },
    { task: H.successDecodeThrows, phase: "success", message: /decode refuses 13/ },
    { task: H.failureEncodeThrows, phase: "failure", message: /encode refuses 13/ },
    { task: H.failureDecodeThrows, phase: "failure", message: /decode refuses 13/ }
  ]

  for (const { message, phase, task: anyTask } of cases) {
    // their error types differ; what is checked here is the pool's error
    const task = anyTask as Task.Task<number, number>
    it.live(`${task.name}: fails that input with TaskCodecError (${phase}), and the worker goes on`, () =>
      Effect.scoped(
        Effect.gen(function* () {
          const pool = yield* ProcessPool.make({ stdio: "log", maxWorkers: 1 })
          const pid = yield* pool.run(T.whoami, 0)
          const check = (error: unknown) => {
            const reason = reasonOf(error)
            assert.strictEqual(reason._tag, "TaskCodecError")
            if (reason._tag !== "TaskCodecError") return
            assert.strictEqual(reason.task, task.name)
            assert.strictEqual(reason.phase, phase)
            assert.match(reason.message, message)
            assert.instanceOf(reason.cause, Error)
            assert.match((reason.cause as Error).message, message)
          }
          check(yield* Effect.flip(pool.run(task, H.UNLUCKY)))
          assert.strictEqual(yield* pool.run(task, 1), 1)
          check(yield* Effect.flip(pool.map(task, [1, 2, H.UNLUCKY, 4])))
          const elements = yield* pool.asCompleted(task, [1, H.UNLUCKY, 3], { chunksize: 3 }).pipe(Stream.runCollect)
          const byIndex = elements.sort((a, b) => a.index - b.index)
          assert.deepStrictEqual(byIndex[0]!.exit, Exit.succeed(1))
          assert.deepStrictEqual(byIndex[2]!.exit, Exit.succeed(3))
          const failure = byIndex[1]!.exit
          assert.isTrue(Exit.isFailure(failure))
          if (Exit.isFailure(failure)) check(Cause.squash(failure.cause))
          const streamed = yield* Effect.flip(pool.mapStream(task, [1, H.UNLUCKY]).pipe(Stream.runDrain))
          check(streamed)
          // the worker lived through all of it, and the pool serves on
          assert.strictEqual(yield* pool.run(T.whoami, 0), pid)
          const stats = yield* pool.stats
          assert.strictEqual(stats.crashed, 0)
          assert.strictEqual(stats.failed, 4)
        })
      )
    )
  }

  it.live("a TaskCodecError from a throwing Schema survives its own Schema round trip", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ stdio: "log", maxWorkers: 1 })
        const error = yield* Effect.flip(pool.run(H.successEncodeThrows, H.UNLUCKY))
        const codec = Schema.toCodecJson(Schema.Defect())
        const back = Schema.decodeUnknownSync(codec)(JSON.parse(JSON.stringify(Schema.encodeSync(codec)(error))))
        assert.match(String((back as Error).message), /encode refuses 13/)
      })
    )
  )
})

describe("code that throws where the pool calls it", () => {
  it.live("run returning something that is not an Effect fails that input with a defect", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ stdio: "log", maxWorkers: 1 })
        assertDies(yield* Effect.exit(pool.run(H.notAnEffect, H.UNLUCKY)))
        assert.strictEqual(yield* pool.run(H.notAnEffect, 2), 2)
        assert.strictEqual((yield* pool.stats).crashed, 0)
      })
    )
  )

  it.live("an observer of a submitted fiber that throws does not stop the pool's delivery", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ stdio: "log", maxWorkers: 1 })
        const fibers = yield* Effect.forEach([1, 2, 3], (n) => pool.submit(T.square, n))
        // (Effect calls a fiber's observers in turn, so a throwing one keeps the
        // observers after it on that fiber from running: that fiber is not joined)
        fibers[0]!.addObserver(() => {
          throw new Error("an observer that throws")
        })
        assert.deepStrictEqual(yield* Effect.forEach(fibers.slice(1), Fiber.join), [4, 9])
        // later calls are served: the delivery loop was not left stuck
        assert.deepStrictEqual(yield* pool.map(T.square, [4, 5]), [16, 25])
        assert.strictEqual(yield* pool.run(T.square, 6), 36)
      })
    )
  )

  it.live("a task layer that throws while building fails that task with a defect; the worker lives", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ stdio: "log", maxWorkers: 1 })
        const pid = yield* pool.run(T.whoami, 0)
        assert.match(String(defectOf(yield* Effect.exit(pool.run(H.layerThrows, 1)))), /the layer threw/)
        assert.strictEqual(yield* pool.run(T.whoami, 0), pid)
      })
    )
  )

  it.live("a tracer whose spans throw: the job runs without its span", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ stdio: "log", maxWorkers: 1 })
        const pid = yield* pool.run(T.whoami, 0)
        // in a span of the caller's, so that the worker makes one for the job
        assert.strictEqual(yield* pool.run(H.tracerThrows, 1).pipe(Effect.withSpan("caller")), 2)
        assert.strictEqual(yield* pool.run(T.whoami, 0), pid)
      })
    )
  )

  it.live("the program's logger and metric registry may throw: the pool goes on", () =>
    Effect.gen(function* () {
      const pool = yield* ProcessPool.make({ stdio: "log", maxWorkers: 1 })
      assert.deepStrictEqual(yield* pool.map(T.square, [1, 2, 3]), [1, 4, 9])
      assert.strictEqual(yield* pool.run(O.chatty, 3), 3)
      assert.strictEqual((yield* pool.stats).completed, 4)
    }).pipe(
      Effect.scoped,
      Effect.provide(
        Logger.layer([
          Logger.make(() => {
            throw new Error("the logger threw")
          })
        ])
      ),
      Effect.provideService(Metric.MetricRegistry, throwingRegistry())
    )
  )
})

/** A metric registry whose every lookup throws. */
const throwingRegistry = (): Map<string, never> =>
  new (class extends Map<string, never> {
    override get(): never {
      throw new Error("the registry threw")
    }
    override has(): never {
      throw new Error("the registry threw")
    }
  })()
