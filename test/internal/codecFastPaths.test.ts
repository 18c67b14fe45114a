/**
 * The codec's fast path for records of primitives (src/internal/codecFastPaths.ts):
 * it must answer exactly what the full Schema path answers, only faster, and
 * hand anything it is not sure of to that path.
 */
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { CodecFailure, codecFor } from "../../src/internal/codec.ts"
import { flatStructGuard, NOT_EXACT } from "../../src/internal/codecFastPaths.ts"

const Row = Schema.Struct({
  i: Schema.Number,
  s: Schema.String,
  ok: Schema.Boolean,
  note: Schema.optionalKey(Schema.String)
})

describe("the fast path for records of primitives", () => {
  it("applies to a Struct of primitive fields, required or optionalKey, and to nothing richer", () => {
    assert.isDefined(flatStructGuard(Row.ast))
    assert.isUndefined(
      flatStructGuard(Schema.Struct({ n: Schema.optional(Schema.Number) }).ast),
      "optional adds undefined"
    )
    assert.isUndefined(flatStructGuard(Schema.Struct({ at: Schema.Date }).ast))
    assert.isUndefined(flatStructGuard(Schema.Struct({ n: Schema.Number.check(Schema.isGreaterThan(0)) }).ast))
    assert.isUndefined(flatStructGuard(Schema.Struct({ xs: Schema.Array(Schema.Number) }).ast))
    assert.isUndefined(flatStructGuard(Schema.Record(Schema.String, Schema.Number).ast))
    class Point extends Schema.Class<Point>("Point")({ x: Schema.Number }) {}
    assert.isUndefined(flatStructGuard(Point.ast), "a class decodes to its instances")
  })

  for (const wire of ["json", "bytes"] as const) {
    it(`answers what the full path answers (${wire})`, () => {
      const codec = codecFor(Row, wire)
      const row = { i: 1, s: "a", ok: true }
      const encoded = codec.encode(row)
      assert.deepStrictEqual(encoded, row)
      assert.notStrictEqual(encoded, row, "encoding copies: a stream may reuse and change its object")
      assert.deepStrictEqual(codec.decode({ i: 1, s: "a", ok: false, note: "n" }), {
        i: 1,
        s: "a",
        ok: false,
        note: "n"
      })
      // a key that is not a field: the Schema drops it
      assert.deepStrictEqual(codec.decode({ i: 1, s: "a", ok: true, extra: 1 }), { i: 1, s: "a", ok: true })
      // what does not fit fails with the Schema's own message
      const missing = codec.decode({ i: 1, ok: true })
      assert.instanceOf(missing, CodecFailure)
      assert.match((missing as CodecFailure).message, /Missing key/)
      const nan = codec.encode({ i: Number.NaN, s: "a", ok: true })
      assert.deepStrictEqual(
        nan,
        { i: "NaN", s: "a", ok: true },
        "NaN takes the full path, which writes it as JSON can"
      )
      assert.instanceOf(codec.decode({ i: "x", s: "a", ok: true }), CodecFailure)
      assert.instanceOf(codec.decode([1, "a", true]), CodecFailure)
      // a getter that throws: the full path reports it, the codec does not throw
      const hostile = Object.defineProperty({ s: "a", ok: true }, "i", {
        enumerable: true,
        get: () => {
          throw new Error("no")
        }
      })
      assert.instanceOf(codec.encode(hostile), CodecFailure)
    })
  }
})

describe("encodeExact: the values a batch may carry as JSON text", () => {
  it("gives the wire value of what JSON text carries unchanged, and NOT_EXACT for anything else", () => {
    const numbers = codecFor(Schema.Number, "bytes")
    assert.strictEqual(numbers.encodeExact?.(2.5), 2.5)
    assert.strictEqual(numbers.encodeExact?.(-0), NOT_EXACT, "JSON writes -0 as 0")
    assert.strictEqual(numbers.encodeExact?.(Number.NaN), NOT_EXACT)
    const rows = codecFor(Row, "bytes")
    const row = { i: 1, s: "a", ok: true }
    const wire = rows.encodeExact?.(row)
    assert.deepStrictEqual(wire, row)
    assert.notStrictEqual(wire, row, "a copy: the stream may change its element before the batch leaves")
    assert.strictEqual(rows.encodeExact?.({ i: -0, s: "a", ok: true }), NOT_EXACT)
    assert.strictEqual(rows.encodeExact?.({ i: 1, s: "a", ok: true, extra: 1 }), NOT_EXACT)
    const hostile = Object.defineProperty({ s: "a", ok: true }, "i", {
      enumerable: true,
      get: () => {
        throw new Error("no")
      }
    })
    assert.strictEqual(rows.encodeExact?.(hostile), NOT_EXACT, "a getter that throws: not exact, and no throw")
    assert.isUndefined(codecFor(Schema.Struct({ at: Schema.Date }), "bytes").encodeExact, "no fast path")
  })
})

describe("allAsIs: a batch whose values each encode and decode to themselves", () => {
  it("is true only when every value passes the primitive Schema's fast path", () => {
    const numbers = codecFor(Schema.Number)
    assert.isTrue(numbers.allAsIs?.([1, 2.5, -3, 1e300]))
    assert.isTrue(numbers.allAsIs?.([]))
    assert.isFalse(numbers.allAsIs?.([1, Number.NaN]), "NaN takes the full path (JSON has no NaN)")
    assert.isFalse(numbers.allAsIs?.([1, Number.POSITIVE_INFINITY]))
    assert.isFalse(numbers.allAsIs?.([1, "2"]))
    assert.isFalse(numbers.allAsIs?.(new Array(3).fill(1, 0, 2)), "a hole is no number")
    const strings = codecFor(Schema.String)
    assert.isTrue(strings.allAsIs?.(["a", ""]))
    assert.isFalse(strings.allAsIs?.(["a", 1]))
    const booleans = codecFor(Schema.Boolean)
    assert.isTrue(booleans.allAsIs?.([true, false]))
    assert.isFalse(booleans.allAsIs?.([true, 0]))
    // each value it accepts is one the codec passes through unchanged
    for (const [codec, values] of [
      [numbers, [0, -0, 2.5, 1e300]],
      [strings, ["a", ""]],
      [booleans, [true, false]]
    ] as const) {
      assert.isTrue(codec.allAsIs?.(values))
      for (const value of values) {
        assert.strictEqual(codec.encode(value), value)
        assert.strictEqual(codec.decode(value), value)
      }
    }
    assert.isUndefined(codecFor(Schema.Struct({ at: Schema.Date })).allAsIs, "no fast path")
    assert.isUndefined(codecFor(Schema.Number.check(Schema.isInt())).allAsIs, "a check: the full path")
  })
})
