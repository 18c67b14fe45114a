/**
 * A worker's output split into lines (`outputLines.ts`, for `stdio: "log"`):
 * characters split between reads arrive whole, a line longer than the bound
 * is cut at a character boundary and says so, and the work is linear in the
 * bytes read.
 */
import { assert, describe, it } from "@effect/vitest"
import * as OutputLines from "../../src/internal/outputLines.ts"

const collect = (maxLineBytes?: number) => {
  const lines: Array<string> = []
  return { lines, output: OutputLines.make((line) => lines.push(line), maxLineBytes) }
}

/** Feeds `bytes` split at each of `cuts` (sorted positions), then ends the stream. */
const feed = (output: OutputLines.OutputLines, bytes: Buffer, cuts: ReadonlyArray<number>): void => {
  let from = 0
  for (const cut of [...cuts, bytes.length]) {
    output.push(bytes.subarray(from, cut))
    from = cut
  }
  output.end()
}

const text = "é€😀\nplain\n\n€ at the end€\nno newline 😀"
const expected = ["é€😀", "plain", "", "€ at the end€", "no newline 😀"]

describe("lines of a worker's output", () => {
  it("a character split between two reads arrives whole, at every byte position", () => {
    const bytes = Buffer.from(text, "utf8")
    for (let cut = 0; cut <= bytes.length; cut++) {
      const { lines, output } = collect()
      feed(output, bytes, [cut])
      assert.deepStrictEqual(lines, expected, `cut at ${cut}`)
    }
  })

  it("and fed byte by byte", () => {
    const bytes = Buffer.from(text, "utf8")
    const { lines, output } = collect()
    feed(
      output,
      bytes,
      Array.from({ length: bytes.length }, (_, i) => i)
    )
    assert.deepStrictEqual(lines, expected)
  })

  it("2,000 lines of é€😀 in reads of 4,093 bytes (a prime: reads end inside characters)", () => {
    const bytes = Buffer.from("é€😀\n".repeat(2_000), "utf8")
    const cuts = Array.from({ length: Math.floor(bytes.length / 4_093) }, (_, i) => (i + 1) * 4_093)
    const { lines, output } = collect()
    feed(output, bytes, cuts)
    assert.strictEqual(lines.length, 2_000)
    assert.isTrue(lines.every((line) => line === "é€😀"))
  })

  it("a last line without a newline is given once, at the end", () => {
    const { lines, output } = collect()
    output.push(Buffer.from("a\nb"))
    assert.deepStrictEqual(lines, ["a"])
    output.end()
    output.end()
    assert.deepStrictEqual(lines, ["a", "b"])
  })
})

describe("a line longer than the bound", () => {
  it("is cut at the bound, and the entry says where and how long the line was", () => {
    const { lines, output } = collect(10)
    feed(output, Buffer.from("0123456789abcdef\nshort\n"), [])
    assert.deepStrictEqual(lines, [`0123456789${OutputLines.cutNote(10, 16)}`, "short"])
  })

  it("is cut before a character that the bound would split, wherever the reads end", () => {
    // "€" takes 3 bytes: byte 10 is inside the fourth one
    const bytes = Buffer.from(`${"€".repeat(10)}\n${"😀".repeat(5)}\n`, "utf8")
    for (let cut = 0; cut <= bytes.length; cut++) {
      const { lines, output } = collect(10)
      feed(output, bytes, [cut])
      assert.deepStrictEqual(
        lines,
        [`€€€${OutputLines.cutNote(9, 30)}`, `😀😀${OutputLines.cutNote(8, 20)}`],
        `cut at ${cut}`
      )
    }
  })

  it("20 MB without a newline makes one entry of the bound's length", () => {
    const { lines, output } = collect()
    const chunk = Buffer.alloc(65_536, "x")
    for (let i = 0; i < 320; i++) output.push(chunk)
    assert.deepStrictEqual(lines, [])
    output.push(Buffer.from("\nnext\n"))
    assert.strictEqual(lines.length, 2)
    assert.strictEqual(lines[0], "x".repeat(OutputLines.MAX_LINE_BYTES) + OutputLines.cutNote(65_536, 20 * 1024 * 1024))
    assert.strictEqual(lines[1], "next")
  })
})

describe("the work", () => {
  /**
   * How long one line of `bytes` takes, without a newline in reads of
   * `chunk.length`, then its newline: the fastest of `runs` (interference on a
   * shared machine only adds time). A run that passes `deadlineMs` stops there
   * and counts as Infinity, so that quadratic work fails in bounded time.
   */
  const timeOf = (bytes: number, chunk: Buffer, runs: number, deadlineMs = Number.POSITIVE_INFINITY): number => {
    let best = Number.POSITIVE_INFINITY
    for (let run = 0; run < runs; run++) {
      const output = OutputLines.make(() => {})
      const start = performance.now()
      let fed = 0
      while (fed < bytes && performance.now() - start <= deadlineMs) {
        for (let i = 0; i < 256 && fed < bytes; i++, fed += chunk.length) output.push(chunk)
      }
      output.push(Buffer.from("\n"))
      if (fed >= bytes) best = Math.min(best, performance.now() - start)
    }
    return best
  }

  /**
   * Measured under a load of 6–9 on 2 cores, 100 tries: with each size run
   * once before (so that V8 has compiled every path it takes), the fastest of
   * 9 runs took at most 4.2× as long for 4× the bytes; without the warm-up it
   * reached 12×.
   */
  const RUNS = 9
  // four times the bytes: four times the work when linear, sixteen when quadratic
  const grows = (small: number, chunk: Buffer) => {
    timeOf(small, chunk, 1)
    const bound = 8 * timeOf(small, chunk, RUNS)
    timeOf(4 * small, chunk, 1, bound)
    assert.isBelow(timeOf(4 * small, chunk, RUNS, bound), bound)
  }

  // Small reads: many of them per byte of the line, so that quadratic work
  // shows within a second or two (in reads of 64 KB it takes minutes to show)
  it("grows linearly with a long line's length, in reads of 16 bytes", () => {
    grows(64 * 1024, Buffer.alloc(16, "é"))
  })
})
