/**
 * The bytes codec is `Schema.toCodecJson` with `Schema.Uint8Array` kept as
 * bytes (src/internal/bytesCodec.ts copies effect's derivation): on every
 * Schema shape here, its wire is toCodecJson's with base64 put back, it holds
 * the caller's own Uint8Array instances, it decodes back (also after a
 * structured clone, as a thread receives it), and it refuses exactly what
 * toCodecJson refuses. An upgrade of effect that changes the derivation fails
 * here first.
 */
import { isDeepStrictEqual } from "node:util"
import { assert, describe, it } from "@effect/vitest"
import { Exit, Option, Schema } from "effect"
import { toCodecBytes } from "../../src/internal/bytesCodec.ts"

class Doc extends Schema.Class<Doc>("Doc")({
  name: Schema.String,
  body: Schema.Uint8Array,
  parts: Schema.Array(Schema.Uint8Array)
}) {}
class Bad extends Schema.TaggedError<Bad>()("Bad", { raw: Schema.Uint8Array, at: Schema.Date }) {}
interface Tree {
  readonly bytes: Uint8Array
  readonly kids: ReadonlyArray<Tree>
}
const Tree: Schema.Codec<Tree> = Schema.Struct({
  bytes: Schema.Uint8Array,
  kids: Schema.Array(Schema.suspend((): Schema.Codec<Tree> => Tree))
})

const u = (...xs: Array<number>) => new Uint8Array(xs)
type Any = Schema.Codec<any, any, never, never>

/** [name, Schema, values that encode, values that do not] */
const cases: ReadonlyArray<readonly [string, Any, ReadonlyArray<unknown>, ReadonlyArray<unknown>]> = [
  [
    "a Struct of bytes, a Date, a bigint, an Array of bytes",
    Schema.Struct({
      a: Schema.Number,
      b: Schema.Uint8Array,
      d: Schema.Date,
      n: Schema.BigInt,
      xs: Schema.Array(Schema.Uint8Array)
    }),
    [
      { a: 1, b: u(1, 2, 255), d: new Date(0), n: 12345678901234567890n, xs: [u(), u(9)] },
      { a: Number.NaN, b: u(0), d: new Date(5), n: -1n, xs: [] }
    ],
    [
      { a: 1, b: "AQI=", d: new Date(0), n: 1n, xs: [] },
      { a: 1, b: [1, 2], d: new Date(0), n: 1n, xs: [] },
      { a: 1, b: u(1), d: new Date(0), n: 1, xs: [] },
      { a: "1", b: u(1), d: new Date(0), n: 1n, xs: [] },
      null
    ]
  ],
  [
    "bare bytes",
    Schema.Uint8Array,
    [u(1, 2, 3), Buffer.from("héllo"), new Uint8Array(new ArrayBuffer(16), 4, 8)],
    ["AQID", [1], new Uint16Array(2), undefined]
  ],
  ["annotated bytes", Schema.Uint8Array.annotate({ description: "raw" }), [u(7)], ["Bw=="]],
  [
    "checked bytes",
    Schema.Uint8Array.check(Schema.makeFilter((b: Uint8Array) => b.length <= 2 || "at most 2 bytes")),
    [u(1, 2)],
    [u(1, 2, 3)]
  ],
  [
    "a union",
    Schema.Union([
      Schema.Struct({ _tag: Schema.Literal("bytes"), b: Schema.Uint8Array }),
      Schema.Struct({ _tag: Schema.Literal("text"), t: Schema.String }),
      Schema.Uint8Array,
      Schema.BigInt
    ]),
    [{ _tag: "bytes", b: u(1) }, { _tag: "text", t: "t" }, u(2, 3), 5n],
    [{ _tag: "bytes", b: "AQ==" }, 5]
  ],
  [
    "optional and nullable",
    Schema.Struct({
      k: Schema.optionalKey(Schema.Uint8Array),
      o: Schema.optional(Schema.Uint8Array),
      n: Schema.NullOr(Schema.Uint8Array)
    }),
    [{ n: null }, { k: u(1), o: undefined, n: u(2) }],
    [{ k: "AQ==", n: null }, { n: undefined }]
  ],
  ["an Option", Schema.Option(Schema.Uint8Array), [Option.some(u(1, 2)), Option.none()], [Option.some("AQI=")]],
  [
    "a Record and a Tuple",
    Schema.Struct({
      r: Schema.Record(Schema.String, Schema.Uint8Array),
      t: Schema.Tuple([Schema.Uint8Array, Schema.Number])
    }),
    [{ r: { a: u(1), b: u() }, t: [u(9), 1] }],
    [{ r: { a: "AQ==" }, t: [u(9), 1] }]
  ],
  ["a Class", Doc, [new Doc({ name: "d", body: u(1, 2), parts: [u(3)] })], [{ name: "d", body: "AQ==", parts: [] }]],
  ["a TaggedError", Bad, [new Bad({ raw: u(0xff), at: new Date(1) })], [{ _tag: "Bad", raw: "AQ==", at: new Date(1) }]],
  [
    "a recursive Schema",
    Tree,
    [{ bytes: u(1), kids: [{ bytes: u(2), kids: [] }] }],
    [{ bytes: u(1), kids: [{ bytes: "Ag==", kids: [] }] }]
  ],
  [
    "Uint8ArrayFromBase64 stays text",
    Schema.Struct({ b64: Schema.Uint8ArrayFromBase64 }),
    [{ b64: u(1, 2) }],
    [{ b64: 7 }]
  ]
]

/** The wire toCodecJson makes, from the bytes codec's: base64 where bytes are. */
const toBase64 = (v: unknown): unknown =>
  v instanceof Uint8Array
    ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64")
    : Array.isArray(v)
      ? v.map(toBase64)
      : v !== null && typeof v === "object"
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toBase64(x)]))
        : v

/** The Uint8Arrays in a value, in order. */
const bytesIn = (v: unknown, out: Array<Uint8Array> = []): Array<Uint8Array> => {
  if (v instanceof Uint8Array) out.push(v)
  else if (v !== null && typeof v === "object") for (const x of Object.values(v)) bytesIn(x, out)
  return out
}

describe("the bytes codec, beside toCodecJson", () => {
  for (const [name, schema, goods, bads] of cases) {
    it(`${name}: the same wire but for bytes, the caller's own bytes, back again, the same refusals`, () => {
      const json = Schema.toCodecJson(schema)
      const bytes = toCodecBytes(schema)
      for (const value of goods) {
        const ej = Schema.encodeUnknownExit(json)(value)
        const eb = Schema.encodeUnknownExit(bytes)(value)
        assert.isTrue(Exit.isSuccess(ej) && Exit.isSuccess(eb), `${name}: both encode`)
        if (!Exit.isSuccess(ej) || !Exit.isSuccess(eb)) continue
        assert.isTrue(isDeepStrictEqual(toBase64(eb.value), ej.value), `${name}: toCodecJson's wire, with bytes`)
        const sent = bytesIn(eb.value)
        const given = name.startsWith("Uint8ArrayFromBase64") ? [] : bytesIn(value)
        assert.strictEqual(sent.length, given.length)
        for (let i = 0; i < sent.length; i++) {
          assert.strictEqual(sent[i], given[i], `${name}: the caller's instance, not a copy`)
        }
        for (const received of [eb.value, structuredClone(eb.value)]) {
          const back = Schema.decodeUnknownExit(bytes)(received)
          const viaJson = Schema.decodeUnknownExit(json)(ej.value)
          assert.isTrue(Exit.isSuccess(back) && Exit.isSuccess(viaJson))
          // the value itself (a Buffer stays a Buffer until a clone makes it a Uint8Array), or what JSON gives
          if (Exit.isSuccess(back) && Exit.isSuccess(viaJson)) {
            assert.isTrue(isDeepStrictEqual(back.value, value) || isDeepStrictEqual(back.value, viaJson.value), name)
          }
        }
      }
      for (const value of bads) {
        const ej = Schema.encodeUnknownExit(json)(value)
        const eb = Schema.encodeUnknownExit(bytes)(value)
        assert.strictEqual(Exit.isFailure(eb), Exit.isFailure(ej), `${name}: the same verdict on ${String(value)}`)
      }
    })
  }
})
