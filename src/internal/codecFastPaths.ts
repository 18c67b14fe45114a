/**
 * Where a codec (`codec.ts`) may skip the Schema machinery: Schemas whose JSON
 * form is the value itself, for values that certainly fit. A guard answers
 * true only for a value the full codec would pass through unchanged (or, for a
 * record, copied with the same fields); anything else takes the full path,
 * which gives the exact message. The Schema machinery costs ~2.6 µs to encode
 * a two-field record and as much to decode it (measured here, `{ i: number, s:
 * string }`), more than a message of many records costs to cross the channel:
 * a stream of records moved at a third of a bare pipe's pace through it.
 *
 * @internal
 */
import type * as SchemaAST from "effect/SchemaAST"
import { NumberIsFinite } from "./primordials.ts"

/** A number JSON text carries unchanged: finite, and not `-0` (written as `0`). */
export const isExactJsonNumber = (u: unknown): boolean =>
  typeof u === "number" && NumberIsFinite(u) && (u !== 0 || 1 / u > 0)

/** At most this many fields for a record's fast path: past it, the check is no longer cheap beside the Schema's. */
const MAX_FIELDS = 32

/**
 * A plain number (finite), string or boolean Schema, with nothing on it.
 * `exact`: only values that JSON text carries unchanged (no `-0`, which it
 * writes as `0`), for a guard that decides whether values may travel as JSON
 * text on a channel that would otherwise carry them as they are.
 */
export const primitiveGuard = (ast: SchemaAST.AST, exact = false): ((u: unknown) => boolean) | undefined => {
  if (ast.checks !== undefined || ast.encoding !== undefined || ast.context !== undefined) return undefined
  return primitiveOf(ast, exact)
}

const primitiveOf = (ast: SchemaAST.AST, exact: boolean): ((u: unknown) => boolean) | undefined => {
  switch (ast._tag) {
    case "Number":
      // JSON has no NaN or Infinity: the full codec encodes them as strings
      return exact ? isExactJsonNumber : (u) => typeof u === "number" && NumberIsFinite(u)
    case "String":
      return (u) => typeof u === "string"
    case "Boolean":
      return (u) => typeof u === "boolean"
    default:
      return undefined
  }
}

/**
 * Whether every value of a batch passes `guard` (a primitive Schema's fast
 * path): then each one's encoding and decoding is the value itself, and a
 * chunk's answered array is kept whole. One loop over the guard instead of a
 * codec's call per value: 1,000,000 squares in "auto" chunks on 2 threads
 * spent ~9 ms a run decoding answers, ~3 ms with it (CPU profile), 9.47 →
 * 9.83 M/s (medians of 5 alternated runs). Not used for a chunk's inputs:
 * skipping their loop there made the same run bimodal (7.3 or 10.1 M/s,
 * workers too spending 40% more), for reasons not found.
 */
const allPass =
  (guard: (u: unknown) => boolean) =>
  (values: ReadonlyArray<unknown>): boolean => {
    for (let i = 0; i < values.length; i++) if (!guard(values[i])) return false
    return true
  }

/**
 * A `Schema.Struct` of primitive fields (each required, or an `optionalKey`),
 * with nothing on it or them: a value fits when it is a plain object whose own
 * enumerable keys are exactly fields of it, every required one there, each
 * field's value a primitive that fits. A key that is not a field (which the
 * Schema would drop), a class instance, an array: the full path. `exact`:
 * as for `primitiveGuard`.
 */
export const flatStructGuard = (ast: SchemaAST.AST, exact = false): ((u: unknown) => boolean) | undefined => {
  if (ast._tag !== "Objects" || ast.checks !== undefined || ast.encoding !== undefined || ast.context !== undefined) {
    return undefined
  }
  if (ast.indexSignatures.length > 0 || ast.propertySignatures.length === 0) return undefined
  if (ast.propertySignatures.length > MAX_FIELDS) return undefined
  const names: Array<string> = []
  const guards: Array<(u: unknown) => boolean> = []
  const optional: Array<boolean> = []
  for (const field of ast.propertySignatures) {
    const type = field.type
    if (typeof field.name !== "string" || type.checks !== undefined || type.encoding !== undefined) return undefined
    const context = type.context
    // `optionalKey`: the key may be absent; any other context (a default, a mutable key) takes the full path
    if (context !== undefined && (!context.isOptional || context.constructorDefault !== undefined)) return undefined
    const guard = primitiveOf(type, exact)
    if (guard === undefined) return undefined
    names.push(field.name)
    guards.push(guard)
    optional.push(context !== undefined)
  }
  return (u) => {
    if (typeof u !== "object" || u === null || Object.getPrototypeOf(u) !== Object.prototype) return false
    const record = u as Record<string, unknown>
    let present = 0
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!
      if (!Object.hasOwn(record, name)) {
        if (!optional[i]) return false
        continue
      }
      present++
      if (!guards[i]!(record[name])) return false
    }
    return Object.keys(record).length === present
  }
}

/** What a fast codec's `encodeExact` answers for a value that JSON text would not carry unchanged. */
export const NOT_EXACT: unique symbol = Symbol("effect-process-pool/NotExact")

/**
 * The codec of a Schema with a fast path (see `codec.ts`, `ValueCodec`), over
 * its full `encode` and `decode`; `undefined` for any other Schema.
 */
export const codec = (
  ast: SchemaAST.AST,
  encode: (value: unknown) => unknown,
  decode: (wire: unknown) => unknown
):
  | {
      readonly encode: (value: unknown) => unknown
      readonly decode: (wire: unknown) => unknown
      readonly encodeExact: (value: unknown) => unknown
      readonly allAsIs?: (values: ReadonlyArray<unknown>) => boolean
    }
  | undefined => {
  const fast = primitiveGuard(ast)
  if (fast !== undefined) {
    // The fast path skips the Schema machinery for plain numbers, strings and
    // booleans, which are most of what tiny tasks carry; anything else (NaN, a
    // wrong type) takes the full path and gets its exact message.
    const exact = primitiveGuard(ast, true)!
    return {
      encode: (value) => (fast(value) ? value : encode(value)),
      decode: (wire) => (fast(wire) ? wire : decode(wire)),
      encodeExact: (value) => (exact(value) ? value : NOT_EXACT),
      allAsIs: allPass(fast)
    }
  }
  const struct = flatStructGuard(ast)
  if (struct === undefined) return undefined
  const exact = flatStructGuard(ast, true)!
  // Records of primitives (a parser's rows, a stream's elements) skip it too.
  // Encoding copies the record, as the Schema would: a stream may reuse one
  // object for every element, and its batch leaves later. A guard that throws
  // (a getter) sends the value down the full path, which reports it.
  return {
    encode: (value) => {
      try {
        if (struct(value)) return { ...(value as object) }
      } catch {}
      return encode(value)
    },
    decode: (wire) => {
      try {
        if (struct(wire)) return wire
      } catch {}
      return decode(wire)
    },
    encodeExact: (value) => {
      try {
        if (exact(value)) return { ...(value as object) }
      } catch {}
      return NOT_EXACT
    }
  }
}
