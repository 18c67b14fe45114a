/**
 * Validation of the pool's options and of the per-call options (`chunksize`,
 * `bufferSize`), all here, with one convention: a validator answers a
 * `Result` whose failure is the message. Invalid options are programming
 * errors: the caller dies at once with an `IllegalArgumentError` whose message
 * names the option and the value given, in the style of p-map:
 * ``Expected `maxWorkers` to be a positive integer, got `0` (number)``.
 * Options are checked as plain JavaScript passes them: unknown names and
 * absurd values are refused too.
 *
 * @internal
 */
import * as NodeOs from "node:os"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import type { Options } from "../ProcessPool.ts"
import type { EngineOptions } from "./engineState.ts"
import * as WorkerThread from "./workerThread.ts"

/**
 * The default `workerType` of a pool that does not set one, when set: a whole
 * program tried on threads (or processes) without a change to its code, as
 * the test suite runs its programs on both kinds.
 */
export const WORKER_TYPE_ENV = "EFFECT_PROCESS_POOL_WORKER_TYPE"

/** Defaults of the options that have one; see `ProcessPool.Options` for each. */
export const DEFAULT_INTERRUPT_GRACE_MS = 1_000
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5_000

/**
 * The most workers a pool may have. A worker is a process of about 70 MB
 * that loads `effect`; more than this on one machine is a typo, not a plan.
 */
export const MAX_WORKERS = 1_024

/** The default of `chunksize` everywhere; see `AutoChunk` for why. */
export const DEFAULT_CHUNKSIZE: ChunkSize = "auto"

/** `bufferSize` defaults to this many chunks per worker: enough to keep every worker busy. */
const DEFAULT_BUFFER_CHUNKS_PER_WORKER = 2

export type ChunkSize = number | "auto"

export interface StreamOptions {
  readonly chunksize: ChunkSize
  readonly bufferSize: number
  readonly workers: number
}

/** Describes a value for a message: `` `0` (number) ``, `` `{ seconds: NaN }` (object) ``. */
export const show = (u: unknown): string => {
  let text: string
  try {
    text = render(u, false)
  } catch {
    text = Object.prototype.toString.call(u)
  }
  if (text.length > SHOW_CHARS) text = `${text.slice(0, SHOW_CHARS)}…`
  return `\`${text}\` (${u === null ? "null" : Array.isArray(u) ? "array" : typeof u})`
}

/** What `show` renders of a value, at most this long. */
const SHOW_CHARS = 80

/** At most this many elements of an array, or fields of an object, are rendered. */
const SHOW_ELEMENTS = 8

/**
 * A value as it was given (JSON would show NaN as null), one level deep.
 * Arrays are read by index up to `SHOW_ELEMENTS`: `String`, `map` and `join`
 * take time in an array's length, minutes for a sparse one of 2³²−1.
 */
const render = (u: unknown, nested: boolean): string => {
  if (Array.isArray(u)) {
    if (nested) return "[…]"
    const shown: Array<string> = []
    for (let i = 0; i < Math.min(u.length, SHOW_ELEMENTS); i++) shown.push(i in u ? render(u[i], true) : "")
    return `[${shown.join(", ")}${u.length > SHOW_ELEMENTS ? ", …" : ""}]`
  }
  if (typeof u === "object" && u !== null && [Object.prototype, null].includes(Object.getPrototypeOf(u))) {
    if (nested) return "{…}"
    const keys = Object.keys(u)
    const fields = keys
      .slice(0, SHOW_ELEMENTS)
      .map((key) => `${key}: ${render((u as Record<string, unknown>)[key], true)}`)
    if (keys.length > SHOW_ELEMENTS) fields.push("…")
    return fields.length === 0 ? "{}" : `{ ${fields.join(", ")} }`
  }
  return typeof u === "string" ? JSON.stringify(u) : typeof u === "bigint" ? `${u}n` : String(u)
}

/** Dies with the message of a failed validation. */
export const illegal = (message: string): Effect.Effect<never> => Effect.die(new Cause.IllegalArgumentError(message))

export const isPositiveInteger = (u: unknown): u is number => typeof u === "number" && Number.isSafeInteger(u) && u > 0

const fail = Result.fail

/** The longest delay `setTimeout` keeps: Node fires a longer one after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * A duration option in milliseconds. Only `idleTimeout` may be infinite (it
 * means "never"): every other wait has a bound. A finite duration longer than
 * a timer can hold is that longest wait (`MAX_TIMER_MS`, 24.8 days): Node
 * fires a longer `setTimeout` after 1 ms.
 */
export const durationMs = (
  name: string,
  u: unknown,
  rules: { readonly allowZero: boolean; readonly allowInfinite: boolean }
): Result.Result<number, string> => {
  const sign = rules.allowZero ? "non-negative" : "positive"
  if (hasNaNPart(u)) return fail(`Expected \`${name}\` to be a ${sign} duration, got ${show(u)}`)
  let ms: number
  try {
    if (!isDurationInput(u)) throw new TypeError("not a duration")
    ms = Duration.toMillis(Duration.fromInputUnsafe(u))
  } catch {
    return fail(`Expected \`${name}\` to be a duration (milliseconds, or a string such as "5 seconds"), got ${show(u)}`)
  }
  if (Number.isNaN(ms) || ms < 0 || (!rules.allowZero && ms === 0)) {
    return fail(`Expected \`${name}\` to be a ${sign} duration, got ${show(u)}`)
  }
  if (!Number.isFinite(ms)) {
    return rules.allowInfinite
      ? Result.succeed(ms)
      : fail(`Expected \`${name}\` to be a finite duration, got ${show(u)}`)
  }
  return Result.succeed(Math.min(ms, MAX_TIMER_MS))
}

/** The fields of a `Duration.DurationObject`. */
const DURATION_FIELDS: ReadonlyArray<string> = [
  "weeks",
  "days",
  "hours",
  "minutes",
  "seconds",
  "milliseconds",
  "microseconds",
  "nanoseconds"
]

/**
 * Effect reads NaN anywhere in a duration (`NaN`, `[NaN, 0]`,
 * `{ seconds: NaN }`) as zero, which would make a wait that must have a bound
 * end at once: NaN is refused here first, as it is for every other option.
 */
const hasNaNPart = (u: unknown): boolean => {
  if (typeof u === "number") return Number.isNaN(u)
  if (typeof u !== "object" || u === null || Duration.isDuration(u)) return false
  // a duration array has two elements; a longer one is refused anyway, and may be sparse
  const parts = Array.isArray(u) ? (u.length === 2 ? u : []) : Object.values(u)
  return parts.some((v) => typeof v === "number" && Number.isNaN(v))
}

/**
 * Whether `u` is a `Duration.Input` as Effect means it, strictly: Effect
 * reads an object with a field it does not know (`{ secs: 5 }`,
 * `{ millis: 5 }`) as zero, and a field that is not a number as what `*`
 * makes of it.
 */
const isDurationInput = (u: unknown): u is Duration.Input => {
  // Effect's message for another array renders it whole: minutes for a sparse one
  if (Array.isArray(u)) return u.length === 2 && typeof u[0] === "number" && typeof u[1] === "number"
  if (typeof u !== "object" || u === null || Duration.isDuration(u)) return true
  return Object.entries(u).every(
    ([key, value]) => DURATION_FIELDS.includes(key) && (value === undefined || typeof value === "number")
  )
}

/** The rules of a wait that must end: positive, finite. */
export const POSITIVE_FINITE = { allowZero: false, allowInfinite: false } as const

const POOL_OPTIONS: ReadonlyArray<keyof Options> = [
  "workerType",
  "maxWorkers",
  "minWorkers",
  "maxTasksPerWorker",
  "maxQueue",
  "interruptGrace",
  "shutdownTimeout",
  "maxWorkerMemory",
  "idleTimeout",
  "execArgv",
  "env",
  "stdio",
  "serialization"
]

/** The name of an option a user may have meant, for a message. */
const closest = (name: string, known: ReadonlyArray<string>): string | undefined => {
  const lower = name.toLowerCase()
  return known.find((k) => {
    const other = k.toLowerCase()
    return other.startsWith(lower) || lower.startsWith(other) || editDistance(lower, other) <= 2
  })
}

const editDistance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}

/** Refuses option names that are not in `known`. */
export const unknownName = (what: string, given: object, known: ReadonlyArray<string>): string | undefined => {
  for (const name of Object.keys(given)) {
    if (known.includes(name)) continue
    const guess = closest(name, known)
    const names = known.map((k) => `\`${k}\``).join(", ")
    const all = known.length === 1 ? `the only ${what} is ${names}` : `the ${what}s are ${names}`
    return `Unknown ${what} \`${name}\`${guess === undefined ? "" : ` (did you mean \`${guess}\`?)`}; ${all}`
  }
  return undefined
}

/** The engine's options from the user's. */
export const poolOptions = (input: Options | undefined): Result.Result<EngineOptions, string> => {
  const o = input ?? {}
  if (typeof o !== "object" || o === null) return fail(`Expected the pool options to be an object, got ${show(o)}`)
  const unknown = unknownName("pool option", o, POOL_OPTIONS)
  if (unknown !== undefined) return fail(unknown)
  const maxWorkers = o.maxWorkers ?? NodeOs.availableParallelism()
  if (!isPositiveInteger(maxWorkers)) {
    return fail(`Expected \`maxWorkers\` to be a positive integer, got ${show(o.maxWorkers)}`)
  }
  if (maxWorkers > MAX_WORKERS)
    return fail(`Expected \`maxWorkers\` to be at most ${MAX_WORKERS}, got ${show(maxWorkers)}`)
  const minWorkers = o.minWorkers ?? 0
  if (typeof minWorkers !== "number" || !Number.isSafeInteger(minWorkers) || minWorkers < 0) {
    return fail(`Expected \`minWorkers\` to be a non-negative integer, got ${show(o.minWorkers)}`)
  }
  if (minWorkers > maxWorkers) {
    return fail(`Expected \`minWorkers\` to be at most \`maxWorkers\` (${maxWorkers}), got ${show(minWorkers)}`)
  }
  if (o.maxTasksPerWorker !== undefined && !isPositiveInteger(o.maxTasksPerWorker)) {
    return fail(`Expected \`maxTasksPerWorker\` to be a positive integer, got ${show(o.maxTasksPerWorker)}`)
  }
  const maxQueue = maxQueueOf(o.maxQueue)
  if (Result.isFailure(maxQueue)) return fail(maxQueue.failure)
  const finite = { allowZero: true, allowInfinite: false }
  const interruptGraceMs =
    o.interruptGrace === undefined
      ? Result.succeed(DEFAULT_INTERRUPT_GRACE_MS)
      : durationMs("interruptGrace", o.interruptGrace, finite)
  if (Result.isFailure(interruptGraceMs)) return fail(interruptGraceMs.failure)
  const shutdownTimeoutMs =
    o.shutdownTimeout === undefined
      ? Result.succeed(DEFAULT_SHUTDOWN_TIMEOUT_MS)
      : durationMs("shutdownTimeout", o.shutdownTimeout, finite)
  if (Result.isFailure(shutdownTimeoutMs)) return fail(shutdownTimeoutMs.failure)
  const idleTimeoutMs =
    o.idleTimeout === undefined
      ? Result.succeed(Number.POSITIVE_INFINITY)
      : durationMs("idleTimeout", o.idleTimeout, { allowZero: false, allowInfinite: true })
  if (Result.isFailure(idleTimeoutMs)) return fail(idleTimeoutMs.failure)
  const execArgv = o.execArgv
  if (execArgv !== undefined && (!Array.isArray(execArgv) || !execArgv.every((a) => typeof a === "string"))) {
    return fail(`Expected \`execArgv\` to be an array of strings, got ${show(o.execArgv)}`)
  }
  // a NUL byte cannot cross exec: Node would throw it at every spawn
  const nulArg = execArgv?.find((a) => a.includes("\0"))
  if (nulArg !== undefined) return fail(`Expected \`execArgv\` to hold no NUL byte, got ${show(nulArg)}`)
  const env = o.env ?? {}
  if (typeof env !== "object" || env === null || !Object.values(env).every((v) => typeof v === "string")) {
    return fail(`Expected \`env\` to be an object of strings, got ${show(o.env)}`)
  }
  for (const [name, value] of Object.entries(env)) {
    if (name === "" || name.includes("=") || name.includes("\0")) {
      return fail(`Expected the names of \`env\` to be non-empty, without "=" or a NUL byte, got ${show(name)}`)
    }
    if (value.includes("\0")) return fail(`Expected \`env.${name}\` to hold no NUL byte, got ${show(value)}`)
  }
  if (o.maxWorkerMemory !== undefined && !isPositiveInteger(o.maxWorkerMemory)) {
    return fail(`Expected \`maxWorkerMemory\` to be a positive integer (bytes), got ${show(o.maxWorkerMemory)}`)
  }
  const stdio = o.stdio ?? "inherit"
  if (stdio !== "inherit" && stdio !== "log")
    return fail(`Expected \`stdio\` to be "inherit" or "log", got ${show(o.stdio)}`)
  const serialization = o.serialization ?? "json"
  if (serialization !== "json" && serialization !== "advanced") {
    return fail(`Expected \`serialization\` to be "json" or "advanced", got ${show(o.serialization)}`)
  }
  const fromEnv = process.env[WORKER_TYPE_ENV]
  const workerType = o.workerType ?? (fromEnv === undefined || fromEnv === "" ? "process" : fromEnv)
  if (workerType !== "process" && workerType !== "thread") {
    return fail(
      o.workerType === undefined
        ? `Expected the environment variable ${WORKER_TYPE_ENV} to be "process" or "thread", got ${show(fromEnv)}`
        : `Expected \`workerType\` to be "process" or "thread", got ${show(o.workerType)}`
    )
  }
  if (workerType === "thread" && execArgv !== undefined) {
    const refused = WorkerThread.refusedExecArgv(execArgv)
    if (refused !== undefined) {
      return fail(
        `Expected \`execArgv\` to hold only options a worker thread takes (V8's and the process's are the ` +
          `process's: for the heap, use \`maxWorkerMemory\`), got ${show(execArgv)}: ${refused}`
      )
    }
  }
  // an option that means nothing for a kind of worker is refused, never ignored
  if (workerType === "thread" && o.serialization !== undefined) {
    return fail(
      "`serialization` frames the pipes of worker processes; threads pass messages by structured clone: " +
        `leave it out with \`workerType: "thread"\`, got ${show(o.serialization)}`
    )
  }
  return Result.succeed({
    workerType,
    wire: workerType === "thread" || serialization === "advanced" ? "bytes" : "json",
    maxWorkers,
    minWorkers,
    maxTasksPerWorker: o.maxTasksPerWorker,
    maxQueue: maxQueue.success,
    interruptGraceMs: interruptGraceMs.success,
    shutdownTimeoutMs: shutdownTimeoutMs.success,
    idleTimeoutMs: Number.isFinite(idleTimeoutMs.success) ? idleTimeoutMs.success : undefined,
    execArgv,
    env,
    serialization,
    maxWorkerMemory: o.maxWorkerMemory,
    stdio
  })
}

/** `maxQueue` (a pool's, or a cluster client's), or its default: `Infinity`, unbounded. */
export const maxQueueOf = (u: unknown): Result.Result<number, string> =>
  u === undefined || u === Number.POSITIVE_INFINITY || isPositiveInteger(u)
    ? Result.succeed((u as number | undefined) ?? Number.POSITIVE_INFINITY)
    : fail(`Expected \`maxQueue\` to be a positive integer or Infinity, got ${show(u)}`)

/** `chunksize`, or its default. */
export const chunksize = (u: unknown): Result.Result<ChunkSize, string> => {
  if (u === undefined) return Result.succeed(DEFAULT_CHUNKSIZE)
  if (u === "auto" || isPositiveInteger(u)) return Result.succeed(u)
  return fail(`Expected \`chunksize\` to be a positive integer or "auto", got ${show(u)}`)
}

/** The options of `map` (`null` is no options, as for the other operations). */
export const mapOptions = (u: unknown): Result.Result<ChunkSize, string> => {
  const o = (u ?? {}) as { readonly chunksize?: unknown }
  if (typeof o !== "object" || o === null) return fail(`Expected the map options to be an object, got ${show(u)}`)
  const unknown = unknownName("map option", o, ["chunksize"])
  return unknown === undefined ? chunksize(o.chunksize) : fail(unknown)
}

/** The options of `mapStream` and `asCompleted`, for a pool of `workers` (`null` is no options). */
export const streamOptions = (u: unknown, workers: number): Result.Result<StreamOptions, string> => {
  const o = (u ?? {}) as { readonly chunksize?: unknown; readonly bufferSize?: unknown }
  if (typeof o !== "object" || o === null) return fail(`Expected the stream options to be an object, got ${show(u)}`)
  const unknown = unknownName("stream option", o, ["chunksize", "bufferSize"])
  if (unknown !== undefined) return fail(unknown)
  const size = chunksize(o.chunksize)
  if (Result.isFailure(size)) return fail(size.failure)
  const bufferSize = o.bufferSize ?? DEFAULT_BUFFER_CHUNKS_PER_WORKER * workers
  if (!isPositiveInteger(bufferSize))
    return fail(`Expected \`bufferSize\` to be a positive integer, got ${show(o.bufferSize)}`)
  return Result.succeed({ chunksize: size.success, bufferSize, workers })
}
