import * as NodeModule from "node:module"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import * as NodeUrl from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber } from "effect"
import { ProcessPool } from "../src/index.ts"
import { HELD_CACHE_DIR } from "../src/internal/workerProcess.ts"
import * as T from "./fixtures/tasks.ts"
import { eventually } from "./helpers/eventually.ts"
import { readLines, tmpFile } from "./helpers/files.ts"
import { onProcesses } from "./helpers/kind.ts"
import { childrenOf, isAlive } from "./helpers/processes.ts"
import * as Programs from "./helpers/programs.ts"
import { workersUp } from "./helpers/workers.ts"

describe("workers start on demand", () => {
  it.live("a new pool has no worker until work arrives, then no more than maxWorkers", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ maxWorkers: 2 })
        yield* Effect.sleep(300)
        assert.strictEqual((yield* pool.stats).workers, 0)
        const pids = yield* Effect.forEach([300, 300, 300, 300, 300], (ms) => pool.run(T.sleepPid, ms), {
          concurrency: "unbounded"
        })
        assert.strictEqual(new Set(pids).size, 2)
      })
    )
  )

  it.live("minWorkers start with the pool", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ maxWorkers: 2, minWorkers: 2 })
        yield* eventually(pool.stats, (s) => s.workers === 2)
      })
    )
  )

  it.live("one task at a time per worker", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const marker = tmpFile("timeline")
        const pool = yield* ProcessPool.make({ maxWorkers: 2 })
        // both workers up: one slow to start could leave all the tasks to the other
        yield* workersUp(pool, 2)
        const pids = yield* Effect.forEach(
          Array.from({ length: 6 }, () => ({ ms: 100, marker })),
          (p) => pool.run(T.sleeper, p),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(new Set(pids).size, 2)
        // per worker, the log alternates: a task starts only after the previous one ended
        const lines = readLines(marker)
        assert.strictEqual(lines.length, 12)
        for (const pid of new Set(pids)) {
          const own = lines.filter((l) => l.endsWith(` ${pid}`)).map((l) => l.split(" ")[0])
          assert.deepStrictEqual(
            own,
            own.map((_, i) => (i % 2 === 0 ? "started" : "ended"))
          )
        }
      })
    )
  )
})

describe("a worker's start", () => {
  // each worker (a process, or a thread: an isolate that loads every module again) takes
  // its modules' code from the compile cache; a thread's cache is its own, not the parent's
  it.live("a worker loads its modules through Node's compile cache, and leaves the parent's as it was", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const before = NodeModule.getCompileCacheDir()
        const pool = yield* ProcessPool.make({ maxWorkers: 1 })
        assert.notStrictEqual(yield* pool.run(T.compileCacheDir, 0), "")
        assert.strictEqual(NodeModule.getCompileCacheDir(), before)
        // a worker process's cache is on from its start through its environment, which its task does not see
        assert.strictEqual(yield* pool.run(T.env, "NODE_COMPILE_CACHE"), process.env.NODE_COMPILE_CACHE ?? "")
        assert.strictEqual(yield* pool.run(T.env, "EFFECT_PROCESS_POOL_COMPILE_CACHE"), "")
      })
    )
  )

  it.live("an empty NODE_COMPILE_CACHE puts a worker's cache where Node keeps it by default, not in its cwd", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ maxWorkers: 1, env: { NODE_COMPILE_CACHE: "" } })
        const workerDir = yield* pool.run(T.compileCacheDir, 0)
        assert.isTrue(workerDir.startsWith(NodePath.join(NodeOs.tmpdir(), "node-compile-cache")), workerDir)
      })
    )
  )

  // a worker process compiles its modules with V8's tiers held (tiering.ts), which V8's code cache tells apart:
  // sharing a directory, the two kinds of code would be refused by each other and written over each other
  it.live("a worker and a Node process that share a compile cache do not spoil each other's entries", () =>
    Effect.gen(function* () {
      const dir = NodePath.dirname(tmpFile("cache"))
      /** A plain Node process loads effect with the cache in `dir`: what V8 said of each module's cached code. */
      const plainLoad = Effect.scoped(
        Effect.gen(function* () {
          const program = yield* Programs.start(
            ["--input-type=module", "-e", 'await import("effect/Effect"); await import("effect/Schema")'],
            {
              cwd: NodePath.dirname(NodeUrl.fileURLToPath(import.meta.url)),
              env: { NODE_COMPILE_CACHE: dir, NODE_DEBUG_NATIVE: "COMPILE_CACHE" }
            }
          )
          const exited = yield* program.ended(30_000)
          assert.strictEqual(exited.code, 0, program.output().slice(-2000))
          return program.output().match(/V8 code cache for \S+ \S+ was (accepted|rejected)/g) ?? []
        })
      )
      yield* plainLoad
      yield* Effect.scoped(
        Effect.gen(function* () {
          const pool = yield* ProcessPool.make({ maxWorkers: 1, env: { NODE_COMPILE_CACHE: dir } })
          const workerDir = yield* pool.run(T.compileCacheDir, 0)
          assert.isTrue(workerDir.startsWith(onProcesses ? NodePath.join(dir, HELD_CACHE_DIR) : dir), workerDir)
          // the task sees the variable as the user set it
          assert.strictEqual(yield* pool.run(T.env, "NODE_COMPILE_CACHE"), dir)
        })
      )
      // the pool has closed and its worker has written its cache: the plain process's entries are still its own
      const verdicts = yield* plainLoad
      assert.isAbove(verdicts.length, 100)
      assert.deepStrictEqual(
        verdicts.filter((v) => v.endsWith("rejected")),
        []
      )
    })
  )
})

describe("work stealing", () => {
  /** Runs tasks all at once and answers when each finished, in ms from the start. */
  const finishTimes = (pool: ProcessPool.Service, task: typeof T.sleepPid, inputs: ReadonlyArray<number>) =>
    Effect.gen(function* () {
      // both workers up, then tiny tasks: they take tasks ahead
      yield* workersUp(pool, 2)
      yield* pool.map(
        T.square,
        Array.from({ length: 400 }, (_, i) => i),
        { chunksize: 1 }
      )
      const start = Date.now()
      return yield* Effect.forEach(inputs, (ms) => pool.run(task, ms).pipe(Effect.map(() => Date.now() - start)), {
        concurrency: "unbounded"
      })
    })

  it.live("an idle worker takes back a task held behind a long one", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ maxWorkers: 2 })
        const [long, ...short] = yield* finishTimes(pool, T.sleepPid, [4_000, 20, 20, 20, 20])
        for (const ms of short) assert.isBelow(ms, 3_000, `a short task waited behind the long one (${short})`)
        assert.isAtLeast(long!, 4_000)
      })
    )
  )

  it.live("even behind a synchronous loop", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ maxWorkers: 2 })
        // both workers up, then tiny tasks: they take tasks ahead
        yield* workersUp(pool, 2)
        yield* pool.map(
          T.square,
          Array.from({ length: 400 }, (_, i) => i),
          { chunksize: 1 }
        )
        const start = Date.now()
        const long = yield* pool.submit(T.spin, 4_000)
        const short = yield* Effect.forEach([20, 20, 20, 20], (ms) => pool.submit(T.sleepPid, ms))
        for (const fiber of short) yield* Fiber.join(fiber)
        assert.isBelow(Date.now() - start, 3_000)
        assert.isNumber(yield* Fiber.join(long))
      })
    )
  )
})

describe("closing the pool's scope", () => {
  it.live("leaves no worker process alive", () =>
    Effect.gen(function* () {
      const pids = yield* Effect.scoped(
        Effect.gen(function* () {
          const pool = yield* ProcessPool.make({ maxWorkers: 2 })
          return yield* Effect.forEach([200, 200], (ms) => pool.run(T.sleepPid, ms), { concurrency: "unbounded" })
        })
      )
      assert.strictEqual(pids.length, 2)
      for (const pid of pids) assert.isFalse(isAlive(pid), `worker ${pid} is still alive`)
      assert.deepStrictEqual(childrenOf(process.pid), [])
    })
  )

  it.live("work handed to the closed pool fails with PoolClosed", () =>
    Effect.gen(function* () {
      const pool = yield* Effect.scoped(ProcessPool.make({ maxWorkers: 1 }))
      const error = yield* Effect.flip(pool.run(T.square, 2))
      assert.strictEqual(error._tag, "ProcessPoolError")
      assert.strictEqual(error.reason._tag, "PoolClosed")
      const fiber = yield* pool.submit(T.square, 2)
      const exit = yield* Fiber.await(fiber)
      assert.isTrue(Exit.isFailure(exit))
    })
  )

  it.live("interrupts queued and running tasks; a running one's finalizers run in its worker", () =>
    Effect.gen(function* () {
      const marker = tmpFile("marker")
      const [running, queued, caller] = yield* Effect.scoped(
        Effect.gen(function* () {
          const pool = yield* ProcessPool.make({ maxWorkers: 1 })
          const running = yield* pool.submit(T.sleeper, { ms: 60_000, marker })
          const queued = yield* pool.submit(T.sleeper, { ms: 60_000, marker })
          // a caller outside the pool's fibers, still waiting when the scope closes
          const caller = yield* Effect.forkDetach(pool.run(T.sleeper, { ms: 60_000, marker }))
          yield* eventually(
            Effect.sync(() => readLines(marker)),
            (lines) => lines.length === 1
          )
          return [running, queued, caller] as const
        })
      )
      for (const fiber of [running, queued, caller]) {
        const exit = yield* Fiber.await(fiber)
        assert.isTrue(Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause))
      }
      const lines = readLines(marker)
      assert.strictEqual(lines.length, 2, lines.join("\n"))
      assert.match(lines[0]!, /^started \d+$/)
      assert.match(lines[1]!, /^interrupted \d+$/) // the queued ones never started
    })
  )

  it.live("kills stragglers after shutdownTimeout", () =>
    Effect.gen(function* () {
      const start = Date.now()
      let pid = 0
      yield* Effect.scoped(
        Effect.gen(function* () {
          const pool = yield* ProcessPool.make({ maxWorkers: 1, interruptGrace: "1 minute", shutdownTimeout: 300 })
          const marker = tmpFile("marker")
          yield* pool.submit(T.spinLogged, { ms: 60_000, marker })
          const [started] = yield* eventually(
            Effect.sync(() => readLines(marker)),
            (lines) => lines.length === 1
          )
          pid = Number(started!.split(" ")[1])
          if (onProcesses) assert.isTrue(isAlive(pid))
        })
      )
      // a bound, not a speed measure: the loop runs for a minute, and the scope closes once the worker is gone
      assert.isBelow(Date.now() - start, 10_000)
      if (onProcesses) assert.isFalse(isAlive(pid))
    })
  )
})
