import { assert, describe, it } from "@effect/vitest"
import * as AnswerRing from "../../src/internal/answerRing.ts"
import * as P from "../../src/internal/protocol.ts"

const drain = (ring: AnswerRing.Ring, limit = AnswerRing.written(ring)) => AnswerRing.drain(ring, limit, P.DONE)
const numbers = (ring: AnswerRing.Ring, batch: ReadonlyArray<ReadonlyArray<unknown>>) =>
  AnswerRing.writeNumbers(ring, batch)

describe("answerRing", () => {
  it("wakes the reader only when it had read everything, and gives back what was written in order", () => {
    const ring = AnswerRing.make()
    assert.strictEqual(AnswerRing.writeText(ring, "[1]"), "wake")
    assert.strictEqual(AnswerRing.writeText(ring, '["é😀"]'), "written")
    assert.strictEqual(numbers(ring, [[P.DONE, 7, [1.5, 2 ** 60]]]), "written")
    const end = AnswerRing.written(ring)
    assert.deepStrictEqual(drain(ring, end), [[1], ["é😀"], [[P.DONE, 7, [1.5, 2 ** 60]]]])
    assert.deepStrictEqual(drain(ring, end), [])
    assert.strictEqual(numbers(ring, [[P.DONE, 8, [3]]]), "wake")
  })

  it("keeps the order of text and numbers, and the ids and counts of several answers", () => {
    const ring = AnswerRing.make()
    AnswerRing.writeText(ring, "[1]")
    numbers(ring, [
      [P.DONE, 7, [1, 2, 3]],
      [P.DONE, 9, []],
      [P.DONE, 8, [4]]
    ])
    AnswerRing.writeText(ring, "[2]")
    AnswerRing.writeText(ring, "[3]")
    assert.deepStrictEqual(drain(ring), [
      [1],
      [
        [P.DONE, 7, [1, 2, 3]],
        [P.DONE, 9, []],
        [P.DONE, 8, [4]]
      ],
      [2],
      [3]
    ])
  })

  it("reads up to a limit only: what was written after a message stays for after it", () => {
    const ring = AnswerRing.make()
    AnswerRing.writeText(ring, "[1]")
    const posted = AnswerRing.written(ring)
    numbers(ring, [[P.DONE, 7, [2]]])
    assert.deepStrictEqual(drain(ring, posted), [[1]])
    // a limit the reader has passed gives nothing
    assert.deepStrictEqual(drain(ring, 0), [])
    assert.deepStrictEqual(drain(ring), [[[P.DONE, 7, [2]]]])
  })

  it("is full rather than overwriting what was not read, and wraps around its end", () => {
    const ring = AnswerRing.make()
    const quarter = AnswerRing.RING_BYTES / 4
    // a record of a quarter of the ring, its header included
    const chunk = `"${"x".repeat(quarter - 8 - 2)}"`
    for (let i = 0; i < 4; i++) assert.notStrictEqual(AnswerRing.writeText(ring, chunk), "full")
    assert.strictEqual(AnswerRing.writeText(ring, "[1]"), "full")
    assert.strictEqual(numbers(ring, [[P.DONE, 7, [1]]]), "full")
    assert.strictEqual(AnswerRing.writeText(ring, "x".repeat(2 * AnswerRing.RING_BYTES)), "full")
    assert.strictEqual(drain(ring, 3 * quarter).length, 3)
    assert.strictEqual(AnswerRing.writeText(ring, "[1]"), "written")
    // a record that does not fit before the ring's end starts again at its start
    const big = Array.from({ length: quarter / 16 }, (_, i) => i)
    assert.strictEqual(numbers(ring, [[P.DONE, 7, big]]), "written")
    const read = drain(ring)
    assert.strictEqual(read.length, 3)
    assert.deepStrictEqual(read.slice(1), [[1], [[P.DONE, 7, big]]])
  })

  it("a text written near the ring's end comes back whole, split characters too", () => {
    const ring = AnswerRing.make()
    ring.ctl[0] = AnswerRing.RING_BYTES - 16
    ring.ctl[1] = AnswerRing.RING_BYTES - 16
    const across = `["é😀é${"ü".repeat(40)}"]`
    assert.strictEqual(AnswerRing.writeText(ring, across), "wake")
    assert.strictEqual(AnswerRing.writeText(ring, across), "written")
    assert.deepStrictEqual(drain(ring), [JSON.parse(across), JSON.parse(across)])
  })

  it("counts positions modulo 2^30, past which it goes on", () => {
    const ring = AnswerRing.make()
    const near = 2 ** 30 - 8
    ring.ctl[0] = near
    ring.ctl[1] = near
    // 8 bytes left before the ring's end: the record of 16 starts again at its start
    assert.strictEqual(AnswerRing.writeText(ring, "[42]"), "wake")
    assert.strictEqual(AnswerRing.written(ring), 16)
    assert.deepStrictEqual(drain(ring), [[42]])
  })

  it("gives what it cannot read as a string, which no handler takes for a batch, and reads on past it", () => {
    const ring = AnswerRing.make()
    AnswerRing.writeText(ring, "[1]")
    AnswerRing.writeText(ring, "[2")
    assert.deepStrictEqual(drain(ring), ["[1],[2"])
    // a record whose header was overwritten
    numbers(ring, [[P.DONE, 7, [1]]])
    ring.words[(AnswerRing.written(ring) & (AnswerRing.RING_BYTES - 1)) / 4 - 8] = 99
    const read = drain(ring)
    assert.strictEqual(read.length, 1)
    assert.isString(read[0])
    // counts that do not add up
    numbers(ring, [[P.DONE, 7, [1, 2]]])
    ring.numbers[(AnswerRing.written(ring) & (AnswerRing.RING_BYTES - 1)) / 8 - 3] = 5
    assert.isString(drain(ring)[0])
    assert.deepStrictEqual(drain(ring), [])
    AnswerRing.writeText(ring, "[3]")
    assert.deepStrictEqual(drain(ring), [[3]])
  })
})
