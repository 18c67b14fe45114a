import { assert, describe, it } from "@effect/vitest"
import * as AnswerRing from "../../src/internal/answerRing.ts"

describe("answerRing", () => {
  it("wakes the reader only when it had read everything, and gives back what was written in order", () => {
    const ring = AnswerRing.make()
    assert.strictEqual(AnswerRing.write(ring, "[1],"), "wake")
    assert.strictEqual(AnswerRing.write(ring, "[2],"), "written")
    const end = AnswerRing.written(ring)
    assert.strictEqual(AnswerRing.drain(ring, end), "[1],[2],")
    assert.strictEqual(AnswerRing.drain(ring, end), "")
    assert.strictEqual(AnswerRing.write(ring, "[3],"), "wake")
  })

  it("reads up to a limit only: what was written after a message stays for after it", () => {
    const ring = AnswerRing.make()
    AnswerRing.write(ring, "[1],")
    const posted = AnswerRing.written(ring)
    AnswerRing.write(ring, "[2],")
    assert.strictEqual(AnswerRing.drain(ring, posted), "[1],")
    // a limit the reader has passed gives nothing
    assert.strictEqual(AnswerRing.drain(ring, 0), "")
    assert.strictEqual(AnswerRing.drain(ring, AnswerRing.written(ring)), "[2],")
  })

  it("is full rather than overwriting what was not read, and wraps around its end", () => {
    const ring = AnswerRing.make()
    const chunk = `${"x".repeat(AnswerRing.RING_BYTES / 4 - 1)},`
    for (let i = 0; i < 4; i++) assert.notStrictEqual(AnswerRing.write(ring, chunk), "full")
    assert.strictEqual(AnswerRing.write(ring, "[1],"), "full")
    assert.strictEqual(AnswerRing.write(ring, "x".repeat(2 * AnswerRing.RING_BYTES)), "full")
    const quarter = AnswerRing.RING_BYTES / 4
    assert.strictEqual(AnswerRing.drain(ring, 3 * quarter).length, 3 * quarter)
    assert.strictEqual(AnswerRing.write(ring, "[1],"), "written")
  })

  it("a record written across the ring's end comes back whole, split characters too", () => {
    const ring = AnswerRing.make()
    ring.ctl[0] = AnswerRing.RING_BYTES - 4
    ring.ctl[1] = AnswerRing.RING_BYTES - 4
    const across = `["é😀é"],`
    assert.strictEqual(AnswerRing.write(ring, across), "wake")
    assert.strictEqual(AnswerRing.drain(ring, AnswerRing.written(ring)), across)
  })

  it("counts positions modulo 2^30, past which it goes on", () => {
    const ring = AnswerRing.make()
    const near = 2 ** 30 - 3
    ring.ctl[0] = near
    ring.ctl[1] = near
    assert.strictEqual(AnswerRing.write(ring, "[42],"), "wake")
    assert.strictEqual(AnswerRing.written(ring), 2)
    assert.strictEqual(AnswerRing.drain(ring, AnswerRing.written(ring)), "[42],")
  })
})
