/**
 * The JSON framing of the pool's channel (`channel.ts`), fed byte sequences
 * directly: real frames are found after any foreign bytes (a record starts at
 * every RS), whatever the reads that split them, and a foreign record costs
 * bounded memory.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Channel from "../../src/internal/channel.ts"

const RS = "\u001e"
const encode = Channel.encoder("json")
const frame = (message: ReadonlyArray<unknown>): Buffer => Buffer.from(encode(message) as string, "utf8")

/** A JSON decoder that keeps what it is given. */
const collect = (maxRecordBytes?: number) => {
  const messages: Array<unknown> = []
  const foreign: Array<number> = []
  const decoder = Channel.decoder(
    "json",
    { onMessage: (m) => messages.push(m), onForeign: (bytes) => foreign.push(bytes) },
    maxRecordBytes
  )
  return { messages, foreign, decoder }
}

/** Feeds `bytes` split at each of `cuts` (sorted positions). */
const feed = (decoder: Channel.Decoder, bytes: Buffer, cuts: ReadonlyArray<number>): void => {
  let from = 0
  for (const cut of [...cuts, bytes.length]) {
    decoder.push(bytes.subarray(from, cut))
    from = cut
  }
}

const A = [[2, 1, [[0, 25]]]]
const B = [[2, 2, [[0, "é€😀"]]]]

/** Foreign bytes a task can write to fd 4 before its worker's answer, and how many records each drops. */
const foreignRuns: ReadonlyArray<readonly [name: string, bytes: string, drops: number]> = [
  ["a lone RS", RS, 1],
  ["RS and a truncated record", `${RS}[[2,1,[[0,`, 1],
  ["RS and text that is not JSON", `${RS}not json`, 1],
  ["RS and an object", `${RS}{"a":1`, 1],
  ["two RS", RS + RS, 2],
  ["RS inside garbage", `abc${RS}def${RS}`, 3],
  ["garbage without RS", "garbage", 1],
  ["a line without RS", "not a message\n", 1],
  ["a record that does not parse", `${RS}[1,\n`, 1],
  ["RS, garbage, RS, a line", `${RS}x${RS}y\n`, 2],
  ["an LF then RS", `\n${RS}`, 1]
]

describe("the JSON decoder after foreign bytes", () => {
  for (const [name, garbage, drops] of foreignRuns) {
    it(`finds the real frames after ${name}, split at every position`, () => {
      const bytes = Buffer.concat([Buffer.from(garbage, "utf8"), frame(A), frame(B)])
      for (let cut = 0; cut <= bytes.length; cut++) {
        const { decoder, foreign, messages } = collect()
        feed(decoder, bytes, [cut])
        assert.deepStrictEqual(messages, [A, B], `cut at ${cut}`)
        assert.strictEqual(foreign.length, drops, `cut at ${cut}: each foreign record is counted once`)
        assert.isFalse(decoder.partial())
      }
    })
  }

  it("finds them fed byte by byte", () => {
    for (const [, garbage, drops] of foreignRuns) {
      const bytes = Buffer.concat([Buffer.from(garbage, "utf8"), frame(A), frame(B)])
      const { decoder, foreign, messages } = collect()
      feed(
        decoder,
        bytes,
        Array.from({ length: bytes.length }, (_, i) => i)
      )
      assert.deepStrictEqual(messages, [A, B], garbage)
      assert.strictEqual(foreign.length, drops, garbage)
    }
  })

  it("finds them split at every pair of positions (RS, garbage, RS, then a frame)", () => {
    const bytes = Buffer.concat([Buffer.from(`${RS}[[9,${RS}garbage`, "utf8"), frame(A)])
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j++) {
        const { decoder, foreign, messages } = collect()
        feed(decoder, bytes, [i, j])
        assert.deepStrictEqual(messages, [A], `cuts at ${i}, ${j}`)
        assert.strictEqual(foreign.length, 2)
      }
    }
  })

  it("says a record is arriving only while a real one can be", () => {
    const { decoder } = collect()
    decoder.push(Buffer.from(RS))
    assert.isTrue(decoder.partial())
    decoder.push(Buffer.from("x"))
    // no frame opens with anything but `[`: this is not one
    assert.isFalse(decoder.partial())
    assert.strictEqual(decoder.buffered(), 0)
    const half = frame(A).subarray(0, 5)
    decoder.push(half)
    assert.isTrue(decoder.partial())
    decoder.push(frame(A).subarray(5))
    assert.isFalse(decoder.partial())
  })
})

describe("the JSON decoder on real frames", () => {
  it("decodes frames split at every position, many to a read", () => {
    const bytes = Buffer.concat([frame(A), frame(B), frame([]), frame(A)])
    for (let cut = 0; cut <= bytes.length; cut++) {
      const { decoder, foreign, messages } = collect()
      feed(decoder, bytes, [cut])
      assert.deepStrictEqual(messages, [A, B, [], A])
      assert.deepStrictEqual(foreign, [])
    }
  })

  it("decodes a frame of megabytes that comes in many reads", () => {
    const big = [[2, 3, [[0, "y".repeat(5 * 1024 * 1024)]]]]
    const bytes = frame(big)
    const { decoder, foreign, messages } = collect()
    const cuts = Array.from({ length: Math.floor(bytes.length / 65_536) }, (_, i) => (i + 1) * 65_536)
    feed(decoder, Buffer.concat([Buffer.from(`${RS}[`), bytes, frame(A)]), cuts)
    assert.deepStrictEqual(messages, [big, A])
    assert.strictEqual(foreign.length, 1)
  })
})

describe("the memory a foreign record costs", () => {
  const CHUNK = 65_536
  const xs = Buffer.alloc(CHUNK, "x")
  const open = Buffer.alloc(CHUNK, "[")

  it("nothing for a run that is not a frame: RS and 100 MB without a newline", () => {
    const { decoder, foreign, messages } = collect()
    decoder.push(Buffer.from(RS))
    let most = 0
    for (let i = 0; i < (100 * 1024 * 1024) / CHUNK; i++) {
      decoder.push(xs)
      most = Math.max(most, decoder.buffered())
    }
    assert.strictEqual(most, 0)
    decoder.push(frame(A))
    assert.deepStrictEqual(messages, [A])
    assert.deepStrictEqual(foreign, [1 + 100 * 1024 * 1024])
  })

  it("up to the bound for one that opens as a frame, then nothing until the next RS", () => {
    const bound = 1024 * 1024
    const { decoder, foreign, messages } = collect(bound)
    decoder.push(Buffer.from(RS))
    let most = 0
    for (let i = 0; i < (20 * 1024 * 1024) / CHUNK; i++) {
      decoder.push(open)
      most = Math.max(most, decoder.buffered())
    }
    assert.isAtMost(most, bound)
    assert.strictEqual(decoder.buffered(), 0)
    assert.isFalse(decoder.partial())
    decoder.push(frame(A))
    assert.deepStrictEqual(messages, [A])
    assert.deepStrictEqual(foreign, [1 + 20 * 1024 * 1024])
  })

  it("what arrived since the last RS: an earlier foreign record is let go when the next starts", () => {
    const { decoder, messages } = collect()
    decoder.push(Buffer.from(`${RS}[`))
    for (let i = 0; i < 16; i++) decoder.push(open)
    assert.strictEqual(decoder.buffered(), 2 + 16 * CHUNK)
    const real = frame(A)
    decoder.push(real.subarray(0, 3))
    assert.strictEqual(decoder.buffered(), 3)
    decoder.push(real.subarray(3))
    assert.deepStrictEqual(messages, [A])
    assert.strictEqual(decoder.buffered(), 0)
  })

  it("the default bound is above the longest frame a side can write", () => {
    // a frame is one string: at most MAX_STRING_LENGTH UTF-16 units, at most 3 bytes each in UTF-8
    assert.isAtLeast(Channel.MAX_RECORD_BYTES, 3 * (2 ** 29 - 24))
  })
})
