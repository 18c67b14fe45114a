/**
 * Soak: 100,000 tiny tasks through `asCompleted` and through `map`, then
 * 5,000 tasks of which every tenth answers 1 MB, while a random worker is
 * killed with SIGKILL every 50 ms. Not part of the test run.
 *
 * "A random worker" is one that is up: one whose pid came back in an answer
 * in the last second. A worker takes a few hundred ms to start (importing
 * `effect`); killing starting workers every 50 ms would only ever test start-up,
 * which test/faults/crash.test.ts covers ("killed by SIGKILL while starting").
 *
 *   npm run soak                (SOAK_INPUTS, SOAK_BIG_INPUTS, SOAK_KILL_MS to change)
 *
 * It reports tasks completed, tasks failed with WorkerCrashed, tasks failed
 * otherwise, tasks lost or hung (must be 0), for the large answers inputs run
 * twice (counted by the workers in a file; must be 0) and answers delivered
 * for inputs that never ran (must be 0), and worker processes left alive
 * afterwards (must be 0); it exits 1 if any of those is not 0.
 */
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { Cause, Effect, Exit, Fiber, Option, Stream } from "effect"
import { ProcessPool, type ProcessPoolError } from "effect-process-pool"
import { countedSquare, squarePid } from "./tasks.ts"

const INPUTS = Number(process.env.SOAK_INPUTS ?? 100_000)
const BIG_INPUTS = Number(process.env.SOAK_BIG_INPUTS ?? 5_000)
/** every `BIG_EVERY`-th of the large-answer inputs answers `BIG_BYTES` */
const BIG_EVERY = 10
const BIG_BYTES = 1024 * 1024
const KILL_EVERY_MS = Number(process.env.SOAK_KILL_MS ?? 50)
const MAP_CALL_SIZE = 1_000
/** a bound on each stream and map call: longer counts as hung */
const HANG_MS = 300_000

const workerPids = (): Array<number> => {
  try {
    return NodeChildProcess.execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(process.pid)], {
      encoding: "utf8"
    })
      .split("\n")
      .filter((line) => line.includes("workerMain"))
      .map((line) => Number(line.trim().split(/\s+/)[0]))
  } catch {
    return []
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** pid → when it last answered */
const answered = new Map<number, number>()
const UP_WITHIN_MS = 1_000

let kills = 0
const killer = Effect.gen(function* () {
  for (;;) {
    yield* Effect.sleep(KILL_EVERY_MS)
    const now = Date.now()
    const up = workerPids().filter((pid) => now - (answered.get(pid) ?? 0) < UP_WITHIN_MS)
    if (up.length === 0) continue
    const victim = up[Math.floor(Math.random() * up.length)]!
    answered.delete(victim)
    try {
      process.kill(victim, "SIGKILL")
      kills++
    } catch {
      // gone meanwhile
    }
  }
})

const check = (value: readonly [number, number], input: number): boolean => {
  answered.set(value[1], Date.now())
  return value[0] === input * input
}

const reasonTag = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.squash(cause) as ProcessPoolError.ProcessPoolError
  return error?._tag === "ProcessPoolError"
    ? error.reason._tag
    : Cause.hasInterruptsOnly(cause)
      ? "interrupted"
      : "other"
}

interface Tally {
  completed: number
  crashed: number
  other: Record<string, number>
  lost: number
  hung: number
  wrong: number
}
const tally = (): Tally => ({ completed: 0, crashed: 0, other: {}, lost: 0, hung: 0, wrong: 0 })
const fail = (t: Tally, tag: string, n: number) => {
  if (tag === "WorkerCrashed") t.crashed += n
  else t.other[tag] = (t.other[tag] ?? 0) + n
}

const viaAsCompleted = (pool: ProcessPool.Service, inputs: ReadonlyArray<number>) =>
  Effect.gen(function* () {
    const t = tally()
    const seen = new Uint8Array(inputs.length)
    const run = pool.asCompleted(squarePid, inputs).pipe(
      Stream.runForEach(({ exit, index, input }) =>
        Effect.sync(() => {
          seen[index]!++
          if (Exit.isSuccess(exit)) {
            if (check(exit.value, input)) t.completed++
            else t.wrong++
          } else fail(t, reasonTag(exit.cause), 1)
        })
      ),
      Effect.timeoutOption(HANG_MS)
    )
    if (Option.isNone(yield* run)) t.hung = inputs.length - seen.reduce((a, b) => a + (b > 0 ? 1 : 0), 0)
    for (const count of seen) if (count !== 1) t.lost++
    return t
  })

const viaMap = (pool: ProcessPool.Service, inputs: ReadonlyArray<number>) =>
  Effect.gen(function* () {
    const t = tally()
    let calls = 0
    let failedCalls = 0
    for (let from = 0; from < inputs.length; from += MAP_CALL_SIZE) {
      const batch = inputs.slice(from, from + MAP_CALL_SIZE)
      calls++
      const result = yield* Effect.exit(pool.map(squarePid, batch)).pipe(Effect.timeoutOption(HANG_MS))
      if (Option.isNone(result)) {
        t.hung += batch.length
        continue
      }
      const exit = result.value
      if (Exit.isSuccess(exit)) {
        if (exit.value.length !== batch.length) t.lost += batch.length - exit.value.length
        for (const [i, v] of exit.value.entries()) {
          if (check(v, batch[i]!)) t.completed++
          else t.wrong++
        }
      } else {
        // map fails with the earliest failing input's error and cancels the rest of the call
        failedCalls++
        fail(t, reasonTag(exit.cause), batch.length)
      }
    }
    return { ...t, calls, failedCalls }
  })

/**
 * Large answers: asCompleted over inputs of which every tenth answers 1 MB,
 * each run counted by the workers in `counter`. An input may run at most
 * once; one that succeeded ran exactly once.
 */
const viaLargeAnswers = (pool: ProcessPool.Service, counter: string) =>
  Effect.gen(function* () {
    const t = tally()
    const inputs = Array.from({ length: BIG_INPUTS }, (_, i) => [i, i % BIG_EVERY === 0 ? BIG_BYTES : 0] as const)
    const seen = new Uint8Array(inputs.length)
    const succeeded = new Uint8Array(inputs.length)
    const run = pool.asCompleted(countedSquare, inputs).pipe(
      Stream.runForEach(({ exit, index, input }) =>
        Effect.sync(() => {
          seen[index]!++
          if (Exit.isSuccess(exit)) {
            succeeded[index] = 1
            const [sq, pid, padding] = exit.value
            answered.set(pid, Date.now())
            if (sq === input[0] * input[0] && padding.length === input[1]) t.completed++
            else t.wrong++
          } else fail(t, reasonTag(exit.cause), 1)
        })
      ),
      Effect.timeoutOption(HANG_MS)
    )
    if (Option.isNone(yield* run)) t.hung = inputs.length - seen.reduce((a, b) => a + (b > 0 ? 1 : 0), 0)
    for (const count of seen) if (count !== 1) t.lost++
    const runs = new Uint32Array(inputs.length)
    for (const line of NodeFs.readFileSync(counter, "utf8").split("\n")) if (line !== "") runs[Number(line)]!++
    let twice = 0
    let phantom = 0
    for (let i = 0; i < inputs.length; i++) {
      if (runs[i]! > 1) twice++
      if (succeeded[i] === 1 && runs[i] === 0) phantom++
    }
    return { ...t, twice, phantom }
  })

const print = (label: string, t: Tally, extra = "") =>
  console.log(
    `${label}: completed ${t.completed}, failed with WorkerCrashed ${t.crashed}, failed otherwise ${JSON.stringify(t.other)}, wrong ${t.wrong}, lost ${t.lost}, hung ${t.hung}${extra}`
  )

const program = Effect.gen(function* () {
  const inputs = Array.from({ length: INPUTS }, (_, i) => i)
  const workers = NodeOs.availableParallelism()
  console.log(
    `soak: ${INPUTS} tiny tasks, then ${BIG_INPUTS} with large answers, ${workers} workers, a random worker SIGKILLed every ${KILL_EVERY_MS} ms`
  )
  const seenPids = new Set<number>()
  const watcher = yield* Effect.forkChild(
    Effect.forever(
      Effect.sync(() => {
        for (const pid of workerPids()) seenPids.add(pid)
      }).pipe(Effect.andThen(Effect.sleep(20)))
    )
  )
  const start = Date.now()
  const folder = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "soak-"))
  const counter = NodePath.join(folder, "runs")
  NodeFs.writeFileSync(counter, "")
  const [a, m, big, stats] = yield* Effect.scoped(
    Effect.gen(function* () {
      const pool = yield* ProcessPool.make({ maxWorkers: workers, env: { SOAK_COUNTER: counter } })
      const kill = yield* Effect.forkChild(killer)
      const a = yield* viaAsCompleted(pool, inputs)
      const m = yield* viaMap(pool, inputs)
      const big = yield* viaLargeAnswers(pool, counter)
      yield* Fiber.interrupt(kill)
      return [a, m, big, yield* pool.stats] as const
    })
  )
  NodeFs.rmSync(folder, { recursive: true, force: true })
  yield* Fiber.interrupt(watcher)
  const left = [...seenPids].filter(alive)
  print("asCompleted", a)
  print("map", m, `; map calls ${m.calls}, of which failed ${m.failedCalls} (a failed call cancels its other inputs)`)
  print(
    `asCompleted, ${BIG_INPUTS} inputs, every ${BIG_EVERY}th answering 1 MB`,
    big,
    `; run twice ${big.twice}, delivered without a run ${big.phantom}`
  )
  console.log(
    `kills: ${kills}; pool: crashed ${stats.crashed}, restarted ${stats.restarted}; ${((Date.now() - start) / 1000).toFixed(1)} s`
  )
  console.log(`worker processes left alive afterwards: ${left.length} (of ${seenPids.size} seen)`)
  const bad =
    a.lost +
    a.hung +
    m.lost +
    m.hung +
    a.wrong +
    m.wrong +
    big.lost +
    big.hung +
    big.wrong +
    big.twice +
    big.phantom +
    left.length
  if (bad > 0) process.exitCode = 1
})

Effect.runPromise(program)
