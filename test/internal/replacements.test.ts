import { assert, describe, it } from "@effect/vitest"
import * as Replacements from "../../src/internal/replacements.ts"

const end = (over: Partial<Replacements.Ended> = {}): Replacements.Ended => ({
  crashed: false,
  killedByPool: false,
  finishing: false,
  closed: false,
  ...over
})

describe("replacing workers", () => {
  it("a crash counts, and the next start is a restart", () => {
    const r = Replacements.make()
    Replacements.ended(r, end({ crashed: true }))
    assert.deepStrictEqual(r, { crashed: 1, restarted: 0, toReplace: 1, recycling: 0 })
    Replacements.started(r)
    assert.deepStrictEqual(r, { crashed: 1, restarted: 1, toReplace: 0, recycling: 0 })
    // a start with nothing lost is not a restart
    Replacements.started(r)
    assert.strictEqual(r.restarted, 1)
  })

  it("a worker killed by the pool (past an interrupt's grace) is replaced, but did not crash", () => {
    const r = Replacements.make()
    Replacements.ended(r, end({ killedByPool: true }))
    assert.deepStrictEqual(r, { crashed: 0, restarted: 0, toReplace: 1, recycling: 0 })
  })

  it("a worker that ends in order (retired, idle) is not replaced", () => {
    const r = Replacements.make()
    Replacements.ended(r, end())
    assert.deepStrictEqual(r, Replacements.make())
  })

  it("a recycled worker is replaced once: when it is sent its last job, not again when it ends, however it ends", () => {
    for (const how of [{}, { crashed: true }, { killedByPool: true }]) {
      const r = Replacements.make()
      Replacements.sentLast(r)
      assert.deepStrictEqual(r, { crashed: 0, restarted: 0, toReplace: 1, recycling: 1 })
      Replacements.started(r)
      assert.deepStrictEqual(r, { crashed: 0, restarted: 1, toReplace: 0, recycling: 0 })
      Replacements.ended(r, end({ finishing: true, ...how }))
      assert.strictEqual(r.toReplace, 0, JSON.stringify(how))
      assert.strictEqual(r.crashed, "crashed" in how ? 1 : 0)
    }
  })

  it("a worker retired early (over its memory, a poisoned module) is replaced once, however it ends", () => {
    const r = Replacements.make()
    Replacements.retiredEarly(r)
    // killed while retiring (it did not exit in time): the pool does not count it again
    Replacements.ended(r, end({ killedByPool: false }))
    assert.deepStrictEqual(r, { crashed: 0, restarted: 0, toReplace: 1, recycling: 0 })
  })

  it("nothing is counted while the pool shuts down", () => {
    const r = Replacements.make()
    Replacements.ended(r, end({ closed: true, crashed: true }))
    Replacements.ended(r, end({ closed: true, killedByPool: true }))
    assert.deepStrictEqual(r, Replacements.make())
  })
})
