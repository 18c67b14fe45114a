/**
 * How values cross the process boundary: each task Schema becomes a codec
 * between its Type and a wire value, with a fast path for the primitive
 * Schemas that tiny tasks use. Both the parent and the worker use this module.
 * The wire is the JSON form of the Schema (`Schema.toCodecJson`: `"json"`), or,
 * where the channel carries bytes as they are (a thread's port, a process's
 * `"advanced"` framing), that form with `Uint8Array`s kept as bytes
 * (`"bytes"`, see `bytesCodec.ts`). Either way a Schema accepts and refuses
 * the same values.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import type * as SchemaAST from "effect/SchemaAST"
import { toCodecBytes } from "./bytesCodec.ts"
import * as FastPaths from "./codecFastPaths.ts"
import { withFrame, workerFrame } from "./origin.ts"
import * as ValueShape from "./valueShape.ts"

/**
 * What a codec answers for a value that does not fit: what happened to it, as
 * the end of a sentence that names the value ("does not fit its Schema:
 * Expected a finite number, got NaN at [\"n\"]"), and, when the Schema threw
 * instead of failing, what it threw.
 */
export class CodecFailure {
  readonly message: string
  readonly cause: unknown
  constructor(message: string, cause?: unknown) {
    this.message = message
    this.cause = cause
  }
}

/**
 * A codec turns a value into its wire form and back. Both directions answer
 * the converted value, or a `CodecFailure`; they never throw, whatever the
 * Schema does (a transformation may throw rather than fail: that is the
 * task's bug, and it fails that one value). Not a `Result`: this is the
 * per-input hot path, and the common case allocates nothing.
 */
export interface ValueCodec {
  readonly encode: (value: unknown) => unknown
  readonly decode: (wire: unknown) => unknown
  /**
   * For the Schemas with a fast path (see `codecFastPaths.ts`): the wire
   * value of a value that JSON text carries unchanged (a number, string or
   * boolean, or a plain record of them, with no `-0`), or `NOT_EXACT` for
   * any other (then `encode` it). A batch of such values may cross the
   * `"bytes"` wire as one JSON text, which costs a worker about half what a
   * structured clone or V8's serializer costs for the same small records.
   */
  readonly encodeExact?: ((value: unknown) => unknown) | undefined
  /**
   * For the Schemas with a fast path: true when every value of a batch
   * encodes and decodes to itself (see `codecFastPaths.ts`), so that a
   * chunk's values need no call per value. False says nothing: then each is
   * encoded or decoded.
   */
  readonly allAsIs?: ((values: ReadonlyArray<unknown>) => boolean) | undefined
}

export { NOT_EXACT } from "./codecFastPaths.ts"

/** The form values take on the channel: JSON, or JSON with bytes kept as bytes. */
export type Wire = "json" | "bytes"

const caches: Record<Wire, WeakMap<object, ValueCodec>> = { json: new WeakMap(), bytes: new WeakMap() }

/**
 * The codec of a Schema for a wire, cached per Schema value.
 */
export const codecFor = (schema: Schema.Top, wire: Wire = "json"): ValueCodec => {
  const cache = caches[wire]
  let codec = cache.get(schema)
  if (codec === undefined) {
    codec = makeCodec(schema, wire)
    cache.set(schema, codec)
  }
  return codec
}

const makeCodec = (schema: Schema.Top, wire: Wire): ValueCodec => {
  let json: Schema.Codec<unknown, unknown, never, never>
  try {
    const top = schema as Schema.Codec<unknown, unknown, never, never>
    json = wire === "bytes" ? toCodecBytes(top) : Schema.toCodecJson(top)
  } catch (error) {
    const failure = thrown(error)
    return { encode: () => failure, decode: () => failure }
  }
  // reportInput: a message says what was received (only failures pay for it)
  const encodeFull = Schema.encodeUnknownExit(json, REPORT_INPUT)
  const decodeFull = Schema.decodeUnknownExit(json, REPORT_INPUT)
  // `Schema.Any` lets any value through as it is, and JSON would then drop or
  // mangle what it cannot carry (a function, `undefined`, a Map): such values
  // are refused here, the same under both framings
  const jsonOnly = hasAny(json.ast, new Set())
  // where this Schema needs the value's shape checked (see valueShape.ts)
  const shape = ValueShape.planFor(json.ast)
  const encode = (value: unknown) => {
    if (shape.before) {
      const problem = ValueShape.check(value)
      if (problem !== undefined) return new CodecFailure(ValueShape.clause(problem))
    }
    const wire = unwrap(encodeFull, value)
    if (wire instanceof CodecFailure) return wire
    if (shape.after) {
      const problem = ValueShape.check(wire)
      if (problem !== undefined) return new CodecFailure(ValueShape.clause(problem))
    }
    if (!jsonOnly) return wire
    const at = notJsonAt(wire, [], new Set())
    return at === undefined
      ? wire
      : new CodecFailure(`${DOES_NOT_FIT}Expected JSON value, got ${received(wire, at)}${pathText(at)}`)
  }
  const decode = (wire: unknown) => unwrap(decodeFull, wire)
  return FastPaths.codec(schema.ast, encode, decode) ?? { encode, decode }
}

const REPORT_INPUT = { reportInput: true } as const

/** How a failure's sentence goes on when the value does not fit. */
const DOES_NOT_FIT = "does not fit its Schema: "

const unwrap = (parse: (u: unknown) => Exit.Exit<unknown, Schema.SchemaError>, input: unknown): unknown => {
  let exit: Exit.Exit<unknown, Schema.SchemaError>
  try {
    exit = parse(input)
  } catch (error) {
    const problem = ValueShape.check(input)
    return problem === undefined ? thrown(error) : new CodecFailure(ValueShape.clause(problem))
  }
  if (Exit.isSuccess(exit)) return exit.value
  // before the Schema's message renders the input, or says its stack overflowed
  const problem = ValueShape.check(input)
  if (problem !== undefined) return new CodecFailure(ValueShape.clause(problem))
  for (const reason of exit.cause.reasons) {
    if (Cause.isFailReason(reason)) return new CodecFailure(`${DOES_NOT_FIT}${oneLine(reason.error.message)}`)
    if (Cause.isDieReason(reason)) return thrown(reason.defect)
  }
  return new CodecFailure("was interrupted in its Schema")
}

/** A Schema that threw (a transformation, a filter, a getter) rather than failing. */
const thrown = (error: unknown): CodecFailure =>
  new CodecFailure(
    `made its Schema throw ${error instanceof Error ? `${error.name}: ${error.message}` : preview(error)}`,
    error
  )

/** The clause of a typed error of a task that has no `error` Schema (see `CodecFailure`). */
export const NO_ERROR_SCHEMA = "cannot cross to the parent: the task has no `error` Schema"

/** What a received value shows in a message, at most this long. */
const PREVIEW_CHARS = 80

/**
 * A Schema's message on one line (`Expected number, got "x" at ["a"]`), with
 * what was received cut short: Schema puts the path on lines of its own, and
 * renders the whole value.
 */
const oneLine = (message: string): string => {
  const [first = "", ...rest] = message.split("\n")
  const got = first.indexOf(", got ")
  const head =
    got !== -1 && first.length - got > PREVIEW_CHARS + 6 ? `${first.slice(0, got + 6 + PREVIEW_CHARS)}…` : first
  return [head, ...rest.map((line) => line.trim())].join(" ")
}

/** A short rendering of a value for a message. */
export const preview = (u: unknown): string => {
  let text: string
  const problem = ValueShape.check(u)
  if (problem !== undefined) text = ValueShape.summary(problem)
  else if (typeof u === "function") text = `a function${u.name ? ` (${u.name})` : ""}`
  else if (u === undefined) text = "undefined"
  else if (typeof u === "bigint") text = `${u}n`
  else if (u instanceof Map || u instanceof Set) text = `a ${u.constructor.name} of ${u.size}`
  else if (u instanceof Date) text = `a Date (${Number.isNaN(u.getTime()) ? "invalid" : u.toISOString()})`
  else {
    try {
      text = JSON.stringify(u) ?? String(u)
    } catch {
      text = Object.prototype.toString.call(u)
    }
  }
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text
}

/** What is at `path` in `u`, for a message: a cycle (an object that holds one of its ancestors), or its preview. */
const received = (u: unknown, path: ReadonlyArray<PropertyKey>): string => {
  const ancestors = new Set<unknown>()
  let at = u
  for (const key of path) {
    ancestors.add(at)
    at = (at as Record<PropertyKey, unknown>)[key]
  }
  return ancestors.has(at) ? "a cycle back to an enclosing object" : preview(at)
}

/** Whether an AST has `Any` somewhere (`Suspend`s are followed once). */
const hasAny = (ast: SchemaAST.AST, seen: Set<SchemaAST.AST>): boolean => {
  if (seen.has(ast)) return false
  seen.add(ast)
  switch (ast._tag) {
    case "Any":
      return true
    case "Declaration":
      return ast.typeParameters.some((t) => hasAny(t, seen))
    case "Arrays":
      return ast.elements.some((t) => hasAny(t, seen)) || ast.rest.some((t) => hasAny(t, seen))
    case "Objects":
      return (
        ast.propertySignatures.some((p) => hasAny(p.type, seen)) ||
        ast.indexSignatures.some((i) => hasAny(i.type, seen))
      )
    case "Union":
      return ast.types.some((t) => hasAny(t, seen))
    case "Suspend":
      return hasAny(ast.thunk(), seen)
    default:
      return false
  }
}

/**
 * The path of the first part of `u` that JSON cannot carry as it is, or
 * `undefined` if it all can: JSON's values only, plain objects and arrays,
 * no cycles.
 */
const notJsonAt = (
  u: unknown,
  path: Array<PropertyKey>,
  ancestors: Set<object>
): ReadonlyArray<PropertyKey> | undefined => {
  switch (typeof u) {
    case "string":
    case "boolean":
      return undefined
    case "number":
      return Number.isFinite(u) ? undefined : path
    case "object": {
      if (u === null) return undefined
      if (ancestors.has(u)) return path
      const proto = Object.getPrototypeOf(u)
      if (Array.isArray(u)) {
        ancestors.add(u)
        for (let i = 0; i < u.length; i++) {
          path.push(i)
          const at = notJsonAt(u[i], path, ancestors)
          if (at !== undefined) return at
          path.pop()
        }
        ancestors.delete(u)
        return undefined
      }
      if (proto !== Object.prototype && proto !== null) return path
      ancestors.add(u)
      for (const key of Object.keys(u)) {
        path.push(key)
        const at = notJsonAt((u as Record<string, unknown>)[key], path, ancestors)
        if (at !== undefined) return at
        path.pop()
      }
      ancestors.delete(u)
      return undefined
    }
    default:
      return path
  }
}

const pathText = (path: ReadonlyArray<PropertyKey>): string =>
  path.length === 0 ? "" : ` at [${path.map((key) => JSON.stringify(key)).join("][")}]`

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
  const problem = ValueShape.check(value)
  if (problem !== undefined) return ValueShape.summary(problem)
  try {
    return encodeDefectValue(value)
  } catch {
    try {
      return String(value)
    } catch {
      return Object.prototype.toString.call(value)
    }
  }
}

/**
 * Worker side: what is sent for a defect.
 */
export const serializeDefect = (defect: unknown): SerializedDefect => {
  try {
    if (defect instanceof Error) {
      return {
        error: {
          name: textOf(defect, "name") ?? "Error",
          message: textOf(defect, "message") ?? "",
          stack: textOf(defect, "stack")
        }
      }
    }
    return { value: toJson(defect) }
  } catch {
    // a Proxy whose traps throw, a value String() cannot render
    return { value: "a defect that could not be read" }
  }
}

/**
 * A field of an `Error` as the protocol carries it: a string. Effect's own
 * `NoSuchElementError` has an `undefined` message, and a task may set any
 * value or a getter that throws; a record with a field that is not a string
 * fails the parent's check of the channel and would be dropped, leaving its
 * caller waiting.
 */
const textOf = (error: Error, key: "name" | "message" | "stack"): string | undefined => {
  let value: unknown
  try {
    value = error[key]
  } catch {
    return undefined
  }
  if (typeof value === "string" || value === undefined) return value
  return preview(value)
}

/**
 * Parent side: the defect rebuilt as an `Error` with the worker's name, message
 * and stack, and a frame that names the worker and the task as the
 * stack's first (`origin.ts` says why first; `Cause.pretty` and
 * `NodeRuntime.runMain` print the stack). A defect that was not an `Error`
 * (`Effect.die("no")`) becomes one whose message renders it, with the value as
 * its `cause`: without a stack, nothing would say where it came from.
 */
export const deserializeDefect = (defect: SerializedDefect, worker: string, task: string): Error => {
  const frame = workerFrame(worker, task)
  if (!("error" in defect)) {
    const value = defect.value
    const error = new Error(typeof value === "string" ? value : preview(value), { cause: value })
    error.stack = withFrame(undefined, error.name, error.message, frame)
    return error
  }
  const { name, message, stack } = defect.error
  const error = new Error(message)
  error.name = name
  error.stack = withFrame(stack, name, message, frame)
  return error
}
