import { assert, describe, it } from "@effect/vitest"
import * as AutoChunk from "../../src/internal/autoChunk.ts"

/** Simulates chunks that cost `overheadMs + size × perItemMs`, one after another. */
const simulate = (perItemMs: number, overheadMs: number, chunks: number) => {
  let state = AutoChunk.initial
  const sizes: Array<number> = []
  for (let i = 0; i < chunks; i++) {
    const size = AutoChunk.next(state, undefined, 2)
    sizes.push(size)
    state = AutoChunk.observe(state, size, overheadMs + size * perItemMs)
  }
  return sizes
}

describe("auto chunk size", () => {
  it("starts at one input", () => {
    assert.strictEqual(AutoChunk.next(AutoChunk.initial, undefined, 4), 1)
  })

  it("stays at one input for heavy tasks", () => {
    assert.deepStrictEqual(simulate(100, 0.1, 6), [1, 1, 1, 1, 1, 1])
  })

  it("grows at most MAX_GROWTH-fold per chunk, reaching the target within a few chunks for tiny tasks", () => {
    const sizes = simulate(0.0015, 0.1, 10)
    for (let i = 1; i < sizes.length; i++) assert.isAtMost(sizes[i]!, sizes[i - 1]! * AutoChunk.MAX_GROWTH)
    assert.deepStrictEqual(sizes.slice(0, 3), [1, 8, 64])
    const last = sizes.at(-1)!
    // a chunk of the final size takes about the target
    const ms = 0.1 + last * 0.0015
    assert.isAbove(ms, AutoChunk.TARGET_CHUNK_MS * 0.7)
    assert.isBelow(ms, AutoChunk.TARGET_CHUNK_MS * 1.3)
    // the fixed per-chunk overhead is then about 1% of a chunk
    assert.isBelow(0.1 / ms, 0.015)
  })

  it("settles near TARGET_CHUNK_MS / perItem for medium tasks", () => {
    const sizes = simulate(0.5, 0.1, 12)
    assert.approximately(sizes.at(-1)!, AutoChunk.TARGET_CHUNK_MS / 0.5, 4)
  })

  it("keeps chunks small while heavy inputs come among light ones, and grows again after them", () => {
    // inputs of 0.5 ms, with a run of 100 ms ones from input 200 to 219 (files sorted by path: heavy ones cluster)
    const cost = (i: number) => (i >= 200 && i < 220 ? 100 : 0.5)
    let state = AutoChunk.initial
    let at = 0
    const chunks: Array<readonly [start: number, size: number, ms: number]> = []
    while (at < 400) {
      const size = AutoChunk.next(state, undefined, 2)
      let ms = 0.1
      for (let i = at; i < at + size; i++) ms += cost(i)
      chunks.push([at, size, ms])
      state = AutoChunk.observe(state, size, ms)
      at += size
    }
    // before the heavy run, chunks reach the target's size for light inputs
    const light = (AutoChunk.TARGET_CHUNK_MS / 0.5) * 0.75
    assert.isAtLeast(Math.max(...chunks.filter(([start]) => start < 200).map(([, size]) => size)), light)
    // once a heavy input was seen, a chunk holds few of them: none takes much more than one heavy input
    const afterFirstHeavy = chunks.filter(([start]) => start > chunks.find(([, , ms]) => ms > 100)![0])
    for (const [start, size, ms] of afterFirstHeavy) {
      if (start < 220) assert.isAtMost(size, 2, `chunk at ${start}`)
      assert.isBelow(ms, 250, `chunk at ${start}`)
    }
    // and after the run, they grow back
    assert.isAtLeast(Math.max(...chunks.filter(([start]) => start >= 220).map(([, size]) => size)), light)
  })

  it("never exceeds MAX_CHUNK", () => {
    const sizes = simulate(0.000001, 0.01, 20)
    assert.strictEqual(Math.max(...sizes), AutoChunk.MAX_CHUNK)
  })

  it("shrinks chunks at the end of a known-length input so that every worker gets a share", () => {
    const state = { ...AutoChunk.initial, size: 10_000 }
    assert.strictEqual(AutoChunk.next(state, 1_000_000, 2), 10_000)
    assert.strictEqual(AutoChunk.next(state, 8_000, 2), 2_000)
    assert.strictEqual(AutoChunk.next(state, 3, 2), 1)
  })

  it("does not shrink a chunk below TAIL_MIN_CHUNK_MS of work", () => {
    // 1 µs per input: 2 ms of work is 2,000 inputs
    const state = { size: 10_000, items: 10_000, ms: 10, high: 0.001 }
    assert.strictEqual(AutoChunk.next(state, 8_000, 2), 2_000)
    assert.strictEqual(AutoChunk.next(state, 3_000, 2), 2_000)
    // 10 ms per input: the floor is one input, so the tail spreads fully
    const heavy = { size: 2, items: 10, ms: 100, high: 10 }
    assert.strictEqual(AutoChunk.next(heavy, 3, 2), 1)
  })

  it("ignores observations that carry no information", () => {
    assert.strictEqual(AutoChunk.observe(AutoChunk.initial, 0, 5), AutoChunk.initial)
    assert.strictEqual(AutoChunk.observe(AutoChunk.initial, 3, Number.NaN), AutoChunk.initial)
  })
})
