/**
 * How values cross the process boundary: each task Schema becomes a codec
 * between its Type and a JSON-safe wire value (`Schema.toCodecJson`), with a
 * fast path for the primitive Schemas that tiny tasks use. Both the parent and
 * the worker use this module.
 *
 * @internal
 */
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"

/** What a codec answers for a value that does not fit: a readable message. */
export class CodecFailure {
  readonly message: string
  constructor(message: string) {
    this.message = message
  }
}

/**
 * A codec turns a value into its wire form and back. Both directions answer
 * the converted value, or a `CodecFailure`; they never throw. (Not a `Result`:
 * this is the per-input hot path, and the common case allocates nothing.)
 */
export interface ValueCodec {
  readonly encode: (value: unknown) => unknown
  readonly decode: (wire: unknown) => unknown
}

const cache = new WeakMap<object, ValueCodec>()

/**
 * The codec of a Schema, cached per Schema value.
 */
export const codecFor = (schema: Schema.Top): ValueCodec => {
  let codec = cache.get(schema)
  if (codec === undefined) {
    codec = makeCodec(schema)
    cache.set(schema, codec)
  }
  return codec
}

const makeCodec = (schema: Schema.Top): ValueCodec => {
  const json = Schema.toCodecJson(schema as Schema.Codec<unknown, unknown, never, never>)
  const encodeFull = Schema.encodeUnknownResult(json)
  const decodeFull = Schema.decodeUnknownResult(json)
  const encode = (value: unknown) => unwrap(encodeFull(value))
  const decode = (wire: unknown) => unwrap(decodeFull(wire))
  const fast = primitiveGuard(schema)
  if (fast === undefined) return { encode, decode }
  // The fast path skips the Schema machinery for plain numbers, strings and
  // booleans, which are most of what tiny tasks carry; anything else (NaN, a
  // wrong type) takes the full path and gets its exact message.
  return {
    encode: (value) => (fast(value) ? value : encode(value)),
    decode: (wire) => (fast(wire) ? wire : decode(wire))
  }
}

const primitiveGuard = (schema: Schema.Top): ((u: unknown) => boolean) | undefined => {
  const ast = schema.ast
  if (ast.checks !== undefined || ast.encoding !== undefined || ast.context !== undefined) return undefined
  switch (ast._tag) {
    case "Number":
      // JSON has no NaN or Infinity: the full codec encodes them as strings
      return (u) => typeof u === "number" && Number.isFinite(u)
    case "String":
      return (u) => typeof u === "string"
    case "Boolean":
      return (u) => typeof u === "boolean"
    default:
      return undefined
  }
}

const unwrap = (result: Result.Result<unknown, Schema.SchemaError>): unknown =>
  Result.isSuccess(result) ? result.success : new CodecFailure(result.failure.message)

/**
 * A defect as it crosses the boundary: the parts of an `Error` that matter, or
 * any other thrown value as JSON.
 */
export type SerializedDefect =
  | { readonly error: { readonly name: string; readonly message: string; readonly stack: string | undefined } }
  | { readonly value: unknown }

const encodeDefectValue = Schema.encodeUnknownSync(Schema.Defect())

/** Any value as JSON-safe data (an `Error` as `{ name, message }`; what cannot be, as text). */
export const toJson = (value: unknown): unknown => {
  if (typeof value === "string" || typeof value === "boolean" || value === null) return value
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value)
  try {
    return encodeDefectValue(value)
  } catch {
    return String(value)
  }
}

/**
 * Worker side: what is sent for a defect.
 */
export const serializeDefect = (defect: unknown): SerializedDefect => {
  if (defect instanceof Error) {
    return { error: { name: defect.name, message: defect.message, stack: defect.stack } }
  }
  return { value: toJson(defect) }
}

/**
 * Parent side: the defect rebuilt as an `Error` with the worker's name, message
 * and stack, and a last stack line that names the worker's pid and the task.
 */
export const deserializeDefect = (defect: SerializedDefect, pid: number, task: string): unknown => {
  if (!("error" in defect)) return defect.value
  const { name, message, stack } = defect.error
  const error = new Error(message)
  error.name = name
  error.stack = `${stack ?? `${name}: ${message}`}\n    at effect-process-pool worker (pid ${pid}, task "${task}")`
  return error
}
