import * as NodeFs from "node:fs"
import * as NodeUrl from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Stream } from "effect"
import { ProcessPool } from "../../src/index.ts"
import { doomed } from "../fixtures/exitsOnImport.ts"
import { fragile } from "../fixtures/importFails.ts"
import * as T from "../fixtures/tasks.ts"
import { eventually } from "../helpers/eventually.ts"
import { reasonOf } from "../helpers/exits.ts"
import { readLines, tmpFile } from "../helpers/files.ts"
import { crashedOf, onProcesses, unstartable, workerName, workerType } from "../helpers/kind.ts"

const startHook = NodeUrl.pathToFileURL(new URL("../fixtures/startHook.mjs", import.meta.url).pathname).href

describe("a worker that dies mid-task", () => {
  it.live("fails that task with WorkerCrashed, and the pool goes on with a new worker", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ stdio: "log", maxWorkers: 1 })
        const before = yield* pool.run(T.sleepPid, 0)
        const error = yield* Effect.flip(pool.run(T.exit, 3))
        assert.strictEqual(error._tag, "ProcessPoolError")
        const reason = reasonOf(error)
        assert.strictEqual(reason._tag, "WorkerCrashed")
        if (reason._tag !== "WorkerCrashed") return
        assert.deepStrictEqual(
          {
            task: reason.task,
            workerType: reason.workerType,
            pid: reason.pid,
            threadId: reason.threadId,
            exitCode: reason.exitCode,
            signal: reason.signal
          },
          {
            task: "exit",
            workerType,
            pid: undefined,
            threadId: undefined,
            ...crashedOf(before),
            exitCode: 3,
            signal: null
          }
        )
        assert.match(reason.message, new RegExp(`${workerName} running task "exit" exited with code 3`))
        const after = yield* pool.run(T.sleepPid, 0)
        assert.notStrictEqual(after, before)
        const stats = yield* pool.stats
        assert.strictEqual(stats.crashed, 1)
        assert.strictEqual(stats.restarted, 1)
      })
    )
  )

  // a signal reaches a process; one sent to a thread's pid would end the whole process
  it.live.skipIf(!onProcesses)("a worker killed by SIGKILL reports the signal; tasks on other workers go on", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ stdio: "log", maxWorkers: 2 })
        const marker = tmpFile("marker")
        const victim = yield* pool.submit(T.spinLogged, { ms: 60_000, marker })
        const bystander = yield* pool.submit(T.sleepPid, 1_000)
        const lines = yield* eventually(
          Effect.sync(() => readLines(marker)),
          (lines) => lines.length === 1
        )
        const spinner = Number(lines[0]!.split(" ")[1])
        process.kill(spinner, "SIGKILL")
        const error = yield* Effect.flip(Fiber.join(victim))
        const reason = reasonOf(error)
        assert.strictEqual(reason._tag, "WorkerCrashed")
        if (reason._tag === "WorkerCrashed") {
          assert.strictEqual(reason.signal, "SIGKILL")
          assert.strictEqual(reason.exitCode, null)
          assert.strictEqual(reason.pid, spinner)
        }
        assert.notStrictEqual(yield* Fiber.join(bystander), spinner)
        assert.strictEqual(yield* pool.run(T.square, 9), 81)
      })
    )
  )

  it.live("process.exit in a task loses nothing that already finished on that worker", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ stdio: "log", maxWorkers: 1 })
        // warm up so the worker takes tiny tasks ahead
        yield* Effect.forEach(
          Array.from({ length: 200 }, (_, i) => i),
          (n) => pool.run(T.square, n),
          {
            concurrency: "unbounded"
          }
        )
        const fibers = yield* Effect.forEach([1, 2, 3], (n) => pool.submit(T.square, n))
        const crash = yield* pool.submit(T.exit, 7)
        const later = yield* Effect.forEach([4, 5], (n) => pool.submit(T.square, n))
        assert.deepStrictEqual(yield* Effect.forEach(fibers, Fiber.join), [1, 4, 9])
        const exit = yield* Fiber.await(crash)
        assert.isTrue(Exit.isFailure(exit))
        // the tasks queued behind the crash were not lost: they ran on the replacement
        assert.deepStrictEqual(yield* Effect.forEach(later, Fiber.join), [16, 25])
      })
    )
  )
})

describe("a module that cannot be imported", () => {
  it.live("fails its tasks promptly with WorkerStartError carrying the thrown error", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ stdio: "log", maxWorkers: 2 })
        const errors = yield* Effect.forEach(
          Array.from({ length: 20 }, (_, i) => i),
          (n) => Effect.flip(pool.run(fragile, n)),
          { concurrency: "unbounded" }
        )
        for (const error of errors) {
          const reason = reasonOf(error)
          assert.strictEqual(reason._tag, "WorkerStartError")
          if (reason._tag !== "WorkerStartError") continue
          assert.strictEqual(reason.task, "fragile")
          assert.match(reason.message, /could not be imported.*refuses to load/)
          assert.strictEqual((reason.cause as Error).name, "SyntaxError")
        }
        // the other modules are served meanwhile
        assert.strictEqual(yield* pool.run(T.square, 3), 9)
        // no endless respawning: 20 failing tasks cost a handful of workers
        const stats = yield* pool.stats
        assert.isAtMost(stats.restarted, 4)
      })
    )
  )

  it.live("recovers when the module imports again", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const marker = tmpFile("fail")
        NodeFs.writeFileSync(marker, "")
        const pool = yield* ProcessPool.make({ stdio: "log", maxWorkers: 1, env: { IMPORT_FAIL_MARKER: marker } })
        assert.strictEqual(reasonOf(yield* Effect.flip(pool.run(fragile, 1)))._tag, "WorkerStartError")
        NodeFs.rmSync(marker)
        const result = yield* eventually(Effect.exit(pool.run(fragile, 21)), Exit.isSuccess)
        assert.deepStrictEqual(result, Exit.succeed(42))
      })
    )
  )
})

describe("a worker that dies while loading a task's module", () => {
  it.live("fails the task with WorkerStartError carrying the child's stderr, without a respawn loop", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ stdio: "log", maxWorkers: 2 })
        const errors = yield* Effect.forEach(
          Array.from({ length: 20 }, (_, i) => i),
          (n) => Effect.flip(pool.run(doomed, n)),
          { concurrency: "unbounded" }
        )
        for (const error of errors) {
          const reason = reasonOf(error)
          assert.strictEqual(reason._tag, "WorkerStartError")
          if (reason._tag !== "WorkerStartError") continue
          assert.strictEqual(reason.task, "doomed")
        }
        const first = reasonOf(errors.find((e) => reasonOf(e).message.includes("exited with code 5"))!)
        assert.match(first.message, /while loading task "doomed"/)
        if (first._tag === "WorkerStartError") assert.match(first.stderr ?? "", /exitsOnImport: cannot go on/)
        // the other modules are served meanwhile, and 20 doomed tasks did not cost 20 workers
        assert.strictEqual(yield* pool.run(T.square, 3), 9)
        assert.isAtMost((yield* pool.stats).restarted, 4)
      })
    )
  )
})

describe("a worker that cannot start", () => {
  it.live("fails the tasks promptly with WorkerStartError saying why (the child's stderr, the thread's error)", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ stdio: "log", maxWorkers: 2, ...unstartable })
        const errors = yield* Effect.forEach([1, 2, 3], (n) => Effect.flip(pool.run(T.square, n)), {
          concurrency: "unbounded"
        })
        for (const error of errors) {
          const reason = reasonOf(error)
          assert.strictEqual(reason._tag, "WorkerStartError")
          if (reason._tag !== "WorkerStartError") continue
          assert.match(reason.message, /before it was ready/)
          if (onProcesses) assert.match(reason.stderr ?? "", /no-such-node-flag/)
          else assert.match(reason.message, /this worker cannot start/)
        }
        // and fails new work at once while no worker can start, without a respawn loop
        const again = yield* Effect.flip(pool.run(T.square, 4))
        assert.strictEqual(reasonOf(again)._tag, "WorkerStartError")
      })
    )
  )
})

describe("streams over a pool whose workers cannot start", () => {
  it.live("asCompleted reports every input exactly once, failed, and ends; map and mapStream fail", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ stdio: "log", maxWorkers: 2, ...unstartable })
        const inputs = Array.from({ length: 500 }, (_, i) => i)
        const elements = yield* pool.asCompleted(T.square, inputs).pipe(Stream.runCollect)
        assert.deepStrictEqual(
          elements.map((e) => e.index).sort((a, b) => a - b),
          inputs
        )
        for (const { exit } of elements) {
          assert.isTrue(Exit.isFailure(exit))
          if (Exit.isFailure(exit)) assert.strictEqual(reasonOf(Cause.squash(exit.cause))._tag, "WorkerStartError")
        }
        assert.strictEqual(reasonOf(yield* Effect.flip(pool.map(T.square, inputs)))._tag, "WorkerStartError")
        const streamed = yield* Effect.flip(pool.mapStream(T.square, inputs).pipe(Stream.runDrain))
        assert.strictEqual(reasonOf(streamed)._tag, "WorkerStartError")
      })
    )
  )
})

/** A pool of one worker whose every start waits `delayMs` (startHook.mjs), logging "<n> <pid>" to `log` as it begins. */
const slowStartingPool = (delayMs: number) =>
  Effect.gen(function* () {
    const log = tmpFile("starts")
    const pool = yield* ProcessPool.make({
      stdio: "log",
      maxWorkers: 1,
      execArgv: [`--import=${startHook}`],
      env: { START_DELAY_MS: String(delayMs), START_LOG: log }
    })
    return { log, pool }
  })

/** SIGKILLs the `n`-th worker to start (from 1) once its start is logged. */
const killStart = (log: string, n: number, withinMs?: number) =>
  Effect.gen(function* () {
    const lines = yield* eventually(
      Effect.sync(() => readLines(log)),
      (lines) => lines.length === n,
      withinMs
    )
    process.kill(Number(lines[n - 1]!.split(" ")[1]), "SIGKILL")
  })

describe("start failures back off, and the pool recovers", () => {
  it.live("a start that keeps failing fails the tasks promptly and does not respawn in a tight loop", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const marker = tmpFile("fail")
        const log = tmpFile("starts")
        NodeFs.writeFileSync(marker, "")
        const pool = yield* ProcessPool.make({
          stdio: "log",
          maxWorkers: 2,
          execArgv: [`--import=${startHook}`],
          env: { START_FAIL_MARKER: marker, START_LOG: log }
        })
        for (let i = 0; i < 30; i++) {
          const error = yield* Effect.flip(pool.run(T.square, i))
          assert.strictEqual(reasonOf(error)._tag, "WorkerStartError")
        }
        yield* Effect.sleep(1_000)
        // 30 failing tasks and a second of waiting cost a handful of starts, not one per task
        assert.isAtMost(readLines(log).length, 8)
        // and once workers can start again, the pool serves
        NodeFs.rmSync(marker)
        const result = yield* eventually(Effect.exit(pool.run(T.square, 7)), Exit.isSuccess, 15_000)
        assert.deepStrictEqual(result, Exit.succeed(49))
      })
    )
  )

  // only a process can be killed from outside
  it.live.skipIf(!onProcesses)(
    "workers killed again and again while starting: after five in a row the waiting task fails, saying so",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { log, pool } = yield* slowStartingPool(30_000)
          const fiber = yield* pool.submit(T.square, 6)
          for (let kill = 1; kill <= 5; kill++) yield* killStart(log, kill, 20_000)
          const reason = reasonOf(yield* Effect.flip(Fiber.join(fiber)))
          assert.strictEqual(reason._tag, "WorkerStartError")
          if (reason._tag !== "WorkerStartError") return
          assert.strictEqual(reason.signal, "SIGKILL")
          assert.match(reason.message, /5 worker processes in a row were killed by SIGKILL while starting/)
          assert.notMatch(reason.message, /load|import/)
        })
      )
  )

  it.live.skipIf(!onProcesses)(
    "a worker killed by SIGKILL while starting is replaced, and the waiting task does not fail",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { log, pool } = yield* slowStartingPool(1_000)
          const fiber = yield* pool.submit(T.square, 6)
          yield* killStart(log, 1)
          assert.strictEqual(yield* Fiber.join(fiber), 36)
          assert.strictEqual(readLines(log).length, 2)
        })
      )
  )
})
