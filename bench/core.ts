/**
 * Core figures: a new pool to its first result, the round trip of one tiny
 * task, and JSON against Node's "advanced" IPC serialization — each next to
 * the bare-fork floor measured in the same run.
 *
 *   npm run bench:core
 */
import * as NodeOs from "node:os"
import { Effect, Fiber } from "effect"
import { ProcessPool } from "effect-process-pool"
import { square } from "../examples/tasks/heavy.ts"
import { fmt, forkFloor, medianOf, RUNS } from "./measure.ts"

const withPool = <A>(options: ProcessPool.Options, f: (pool: ProcessPool.Service) => Effect.Effect<A, unknown>) =>
  Effect.runPromise(Effect.scoped(Effect.flatMap(ProcessPool.make(options), f)) as Effect.Effect<A>)

// 1. cold start ---------------------------------------------------------------
const floorColdStart = () =>
  new Promise<number>((resolve) => {
    const start = performance.now()
    const child = forkFloor()
    child.once("message", () => {
      resolve(performance.now() - start)
      child.kill()
    })
    child.send(3)
  })

const poolColdStart = () => {
  const start = performance.now()
  return withPool({ maxWorkers: 1 }, (pool) => pool.run(square, 3).pipe(Effect.map(() => performance.now() - start)))
}

// 2. round trip of one tiny task ----------------------------------------------
const ROUND_TRIPS = 2_000

const floorRoundTrip = () =>
  new Promise<number>((resolve) => {
    const child = forkFloor()
    let left = ROUND_TRIPS
    let start = 0
    child.on("message", () => {
      if (left === ROUND_TRIPS) start = performance.now()
      if (--left === 0) {
        resolve(((performance.now() - start) / (ROUND_TRIPS - 1)) * 1000)
        child.kill()
      } else child.send(left)
    })
    child.send(left)
  })

const poolRoundTrip = () =>
  withPool({ maxWorkers: 1 }, (pool) =>
    Effect.gen(function* () {
      yield* pool.run(square, 1)
      const start = performance.now()
      for (let i = 0; i < ROUND_TRIPS; i++) yield* pool.run(square, i)
      return ((performance.now() - start) / ROUND_TRIPS) * 1000
    })
  )

// 3. serialization -------------------------------------------------------------
const TASKS = 20_000

const poolThroughput = (serialization: "json" | "advanced") =>
  withPool({ maxWorkers: NodeOs.availableParallelism(), serialization }, (pool) =>
    Effect.gen(function* () {
      yield* pool.run(square, 1)
      const start = performance.now()
      const fibers = yield* Effect.forEach(
        Array.from({ length: TASKS }, (_, i) => i),
        (i) => pool.submit(square, i)
      )
      yield* Fiber.joinAll(fibers)
      return TASKS / ((performance.now() - start) / 1000)
    })
  )

const floorThroughput = (serialization: "json" | "advanced") =>
  new Promise<number>((resolve) => {
    const child = forkFloor(serialization)
    child.once("message", () => {
      let left = TASKS
      const start = performance.now()
      child.on("message", () => {
        if (--left === 0) {
          resolve(TASKS / ((performance.now() - start) / 1000))
          child.kill()
        }
      })
      for (let i = 0; i < TASKS; i++) child.send(i)
    })
    child.send(0)
  })

const main = async () => {
  console.log(`node ${process.version}, ${NodeOs.availableParallelism()} cores, median of ${RUNS} runs\n`)
  const floorCold = await medianOf(floorColdStart)
  const poolCold = await medianOf(poolColdStart)
  console.log(
    `new pool → first result:      ${fmt(poolCold)} ms   (bare fork + first IPC round trip: ${fmt(floorCold)} ms, ${fmt(poolCold / floorCold, 2)}x)`
  )
  const floorRtt = await medianOf(floorRoundTrip)
  const poolRtt = await medianOf(poolRoundTrip)
  console.log(
    `round trip of one tiny task:  ${fmt(poolRtt)} µs   (bare IPC round trip: ${fmt(floorRtt)} µs, ${fmt(poolRtt / floorRtt, 2)}x)`
  )
  for (const serialization of ["json", "advanced"] as const) {
    const floor = await medianOf(() => floorThroughput(serialization))
    const pool = await medianOf(() => poolThroughput(serialization))
    console.log(
      `${TASKS} tiny tasks at once, ${serialization.padEnd(8)}: ${fmt(pool)} tasks/s   (bare fork, one message each way per task, 1 child: ${fmt(floor)} msg/s, ${fmt(pool / floor, 2)}x)`
    )
  }
}

await main()
