/**
 * The operations over an engine (src/internal/service.ts), on the engine with
 * a fake kind of worker (helpers/fakeKind.ts): what they hand the engine.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Scope } from "effect"
import type * as Engine from "../../src/internal/engine.ts"
import type * as Jobs from "../../src/internal/jobs.ts"
import type * as Outcomes from "../../src/internal/outcomes.ts"
import * as P from "../../src/internal/protocol.ts"
import { makeService } from "../../src/internal/service.ts"
import * as FakeClock from "../helpers/fakeClock.ts"
import * as FakeEngine from "../helpers/fakeEngine.ts"

const { square } = FakeEngine

describe("submit", () => {
  // a job lives until it ends, 20,000 at once in a round of tiny tasks: a closure
  // of its own (and the two contexts it keeps) would be 136 bytes a job more for
  // the young generation to copy (see `Jobs.Request.target`)
  it.live("hands the engine one onEnd for every job and the job's fiber as its target", () =>
    Effect.gen(function* () {
      const { fake, engine } = FakeEngine.make()
      const requests: Array<Jobs.Request<Engine.AnyTask, Outcomes.Settled<any, any>>> = []
      const watched: Engine.PoolEngine<Engine.Handle<Engine.AnyTask>> = {
        ...engine,
        submit: (request) => {
          requests.push(request)
          return engine.submit(request)
        }
      }
      const scope = yield* Scope.make()
      const pool = makeService(watched, () => 1, scope)
      const a = yield* pool.submit(square, 2)
      const b = yield* pool.submit(square, 3)
      assert.strictEqual(requests.length, 2)
      assert.strictEqual(requests[0]!.onEnd, requests[1]!.onEnd)
      assert.strictEqual(requests[0]!.target, a)
      assert.strictEqual(requests[1]!.target, b)
      // and the answers reach those fibers through it
      yield* Effect.promise(async () => {
        await FakeClock.microtasks()
        const w = fake.workers[0]!
        await w.ready()
        // a worker of unknown pace holds one job at a time
        for (let n = 0; n < 2; n++) {
          await FakeClock.microtasks()
          const run = w.runs()[n]!
          await w.done(
            run[1],
            (run[4] as ReadonlyArray<number>).map((x) => x * x)
          )
        }
      })
      assert.deepStrictEqual(yield* Fiber.joinAll([a, b]), [4, 9])
      assert.strictEqual(P.MODE_STOP_ON_FAILURE, requests[0]!.mode)
      yield* Effect.promise(async () => {
        engine.shutdown(() => {})
        await FakeClock.microtasks()
      })
      yield* Scope.close(scope, Exit.void)
    })
  )
})
