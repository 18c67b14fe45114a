/**
 * The admission line alone (src/internal/admission.ts): its pure transitions,
 * with plain records for jobs. The engine's use of it is in engine.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Admission from "../../src/internal/admission.ts"

interface J {
  readonly name: string
  readonly count: number
  state: string
}

const job = (name: string, count = 1): J => ({ name, count, state: "new" })

/** Ends a job the way the engine does: it leaves the line, then its state becomes ended. */
const end = (line: Admission.Line<J>, j: J) => {
  Admission.leave(line, j)
  j.state = "ended"
}

describe("fits", () => {
  it("lets inputs in while the pool holds at most maxQueue, and anything into an empty pool", () => {
    assert.isTrue(Admission.fits(3, 1, 2))
    assert.isFalse(Admission.fits(3, 2, 2))
    assert.isTrue(Admission.fits(3, 0, 10), "a job larger than the bound fits an empty pool: it cannot wait forever")
    assert.isTrue(Admission.fits(Number.POSITIVE_INFINITY, 1e9, 1e9))
  })
})

describe("the line", () => {
  it("admits at once only when nobody waits and the job fits", () => {
    const line = Admission.make<J>(2)
    assert.isTrue(Admission.admitsNow(line, 1, 1))
    assert.isFalse(Admission.admitsNow(line, 2, 1))
    Admission.join(line, job("a", 2))
    assert.isFalse(Admission.admitsNow(line, 0, 1), "someone waits: a newcomer goes behind them")
  })

  it("gives out its jobs in arrival order, and the first that does not fit holds the others back", () => {
    const line = Admission.make<J>(2)
    const [a, b, c] = [job("a", 2), job("b", 1), job("c", 1)]
    for (const j of [a, b, c]) Admission.join(line, j)
    assert.strictEqual(line.waiting, 3)
    assert.deepStrictEqual([a.state, b.state, c.state], [Admission.WAITING, Admission.WAITING, Admission.WAITING])
    assert.isUndefined(Admission.next(line, 1), "a needs 2 of room; b, which would fit, does not overtake it")
    assert.strictEqual(Admission.next(line, 0), a)
    a.state = "queued"
    assert.strictEqual(Admission.next(line, 1), b)
    b.state = "queued"
    assert.isUndefined(Admission.next(line, 2))
    assert.strictEqual(Admission.next(line, 1), c)
    assert.strictEqual(line.waiting, 0)
    assert.isUndefined(Admission.next(line, 0))
  })

  it("takes a job that ends while it waits out of the count, and skips it", () => {
    const line = Admission.make<J>(1)
    const [a, b] = [job("a"), job("b")]
    Admission.join(line, a)
    Admission.join(line, b)
    end(line, a)
    assert.strictEqual(line.waiting, 1)
    assert.strictEqual(Admission.next(line, 0), b, "the one behind it is first now")
    b.state = "queued" // the caller queues what `next` gives it
    end(line, b)
    assert.strictEqual(line.waiting, 0, "leaving once admitted changes nothing")
  })

  it("drains its waiting jobs in order, for the caller to end", () => {
    const line = Admission.make<J>(1)
    const [a, b, c] = [job("a"), job("b"), job("c")]
    for (const j of [a, b, c]) Admission.join(line, j)
    end(line, b)
    const drained = Admission.drain(line)
    assert.deepStrictEqual(drained, [a, c])
    for (const j of drained) end(line, j)
    assert.strictEqual(line.waiting, 0)
    assert.isUndefined(Admission.next(line, 0))
  })

  it("compacts its array as its head moves on, and keeps the order", () => {
    const line = Admission.make<J>(1)
    const jobs = Array.from({ length: 3000 }, (_, i) => job(String(i)))
    for (const j of jobs) Admission.join(line, j)
    for (let i = 0; i < 2500; i++) Admission.next(line, 0)!.state = "queued"
    assert.isBelow(line.jobs.length, 3000, "the consumed head was dropped")
    assert.strictEqual(Admission.next(line, 0), jobs[2500])
    assert.strictEqual(line.waiting, 499)
  })
})

describe("notify", () => {
  it("calls back in a microtask, in order, and a callback that throws stops no other", async () => {
    const line = Admission.make<J>(1)
    const calls: Array<string> = []
    const thrown: Array<unknown> = []
    Admission.notify(
      line,
      () => calls.push("a"),
      (e) => thrown.push(e)
    )
    Admission.notify(
      line,
      () => {
        throw new Error("boom")
      },
      (e) => thrown.push(e)
    )
    Admission.notify(
      line,
      () => calls.push("c"),
      (e) => thrown.push(e)
    )
    assert.deepStrictEqual(calls, [], "never while the engine changes its state")
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepStrictEqual(calls, ["a", "c"])
    assert.strictEqual((thrown[0] as Error).message, "boom")
  })
})
