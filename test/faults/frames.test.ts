/**
 * Messages for one held job in frames of their own: its `Run` is sent while
 * its worker is busy in a synchronous loop, its `Interrupt` or `Revoke` in a
 * later frame. After the loop, the worker reads both at once, and must take in
 * the whole read before it starts a job: the held job never starts, a stolen
 * one runs only where it was sent again. (Each failed on every run when the
 * worker started jobs after each frame: the job ran, twice when stolen.)
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber } from "effect"
import { ProcessPool } from "../../src/index.ts"
import * as T from "../fixtures/tasks.ts"
import { eventually } from "../helpers/eventually.ts"
import { readLines, tmpFile } from "../helpers/files.ts"

/** Tiny tasks first: the worker's time per job is small, so the pool sends it jobs ahead; `spinLogged` is loaded. */
const warmUp = Effect.gen(function* () {
  yield* ProcessPool.map(
    T.square,
    Array.from({ length: 500 }, (_, i) => i),
    { chunksize: 1 }
  )
  yield* ProcessPool.run(T.spinLogged, { ms: 0, marker: tmpFile("warm") })
})

const startedIn = (marker: string) =>
  eventually(
    Effect.sync(() => readLines(marker)),
    (lines) => lines.length >= 1
  )

describe("a held job whose Run and Interrupt come in frames of their own", () => {
  it.live("never starts, and its caller ends interrupted", () =>
    Effect.gen(function* () {
      yield* warmUp
      const busyMarker = tmpFile("busy")
      const heldMarker = tmpFile("held")
      const busy = yield* ProcessPool.submit(T.spinLogged, { ms: 1_500, marker: busyMarker })
      yield* startedIn(busyMarker)
      // submitted while the worker spins: its Run leaves in a frame of its own, its Interrupt in another
      const held = yield* ProcessPool.submit(T.spinLogged, { ms: 0, marker: heldMarker })
      yield* Effect.sleep(50)
      yield* Fiber.interrupt(held)
      const exit = yield* Fiber.await(held)
      assert.isTrue(Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause))
      yield* Fiber.join(busy)
      // the worker runs its jobs in order: once a later job has run there, the held one would have too
      assert.strictEqual(yield* ProcessPool.run(T.square, 2), 4)
      assert.deepStrictEqual(readLines(heldMarker), [])
    }).pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 1, interruptGrace: 300 })))
  )
})

describe("a held job whose Run and Revoke come in frames of their own", () => {
  it.live("is taken back before it starts: it runs once, on the idle worker", () =>
    Effect.gen(function* () {
      yield* warmUp
      const spinMarker = tmpFile("spin")
      const stolenMarker = tmpFile("stolen")
      const spinning = yield* ProcessPool.submit(T.spinLogged, { ms: 2_000, marker: spinMarker })
      const sleeping = yield* ProcessPool.submit(T.sleepPid, 400)
      yield* startedIn(spinMarker)
      yield* Effect.sleep(50)
      // both workers busy: it is sent ahead to one; once the sleeper is idle it steals it if it went to the spinner
      const stolen = yield* ProcessPool.submit(T.spinLogged, { ms: 0, marker: stolenMarker })
      yield* Fiber.join(stolen)
      yield* Fiber.join(spinning)
      yield* Fiber.join(sleeping)
      yield* ProcessPool.map(T.square, [1, 2, 3, 4], { chunksize: 1 })
      assert.strictEqual(readLines(stolenMarker).length, 1)
    }).pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 2 })))
  )
})
