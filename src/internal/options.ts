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

/** Describes a value for a message: `` `0` (number) ``. */
export const show = (u: unknown): string => {
  let text: string
  try {
    text = typeof u === "string" ? JSON.stringify(u) : typeof u === "bigint" ? `${u}n` : String(u)
  } catch {
    text = Object.prototype.toString.call(u)
  }
  if (Array.isArray(u)) text = `[${text}]`
  return `\`${text}\` (${u === null ? "null" : Array.isArray(u) ? "array" : typeof u})`
}

/** Dies with the message of a failed validation. */
export const illegal = (message: string): Effect.Effect<never> => Effect.die(new Cause.IllegalArgumentError(message))

export const isPositiveInteger = (u: unknown): u is number => typeof u === "number" && Number.isSafeInteger(u) && u > 0

const fail = Result.fail

/**
 * A duration option in milliseconds. Only `idleTimeout` may be infinite (it
 * means "never"): every other wait has a bound.
 */
export const durationMs = (
  name: string,
  u: unknown,
  rules: { readonly allowZero: boolean; readonly allowInfinite: boolean }
): Result.Result<number, string> => {
  let ms: number
  try {
    ms = Duration.toMillis(Duration.fromInputUnsafe(u as Duration.Input))
  } catch {
    return fail(`Expected \`${name}\` to be a duration (milliseconds, or a string such as "5 seconds"), got ${show(u)}`)
  }
  if (Number.isNaN(ms) || ms < 0 || (!rules.allowZero && ms === 0)) {
    return fail(
      `Expected \`${name}\` to be a ${rules.allowZero ? "non-negative" : "positive"} duration, got ${show(u)}`
    )
  }
  if (!rules.allowInfinite && !Number.isFinite(ms))
    return fail(`Expected \`${name}\` to be a finite duration, got ${show(u)}`)
  return Result.succeed(ms)
}

/** The rules of a wait that must end: positive, finite. */
export const POSITIVE_FINITE = { allowZero: false, allowInfinite: false } as const

const POOL_OPTIONS: ReadonlyArray<keyof Options> = [
  "workerType",
  "maxWorkers",
  "minWorkers",
  "maxTasksPerWorker",
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
    return `Unknown ${what} \`${name}\`${guess === undefined ? "" : ` (did you mean \`${guess}\`?)`}; the ${what}s are ${known.map((k) => `\`${k}\``).join(", ")}`
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
    maxWorkers,
    minWorkers,
    maxTasksPerWorker: o.maxTasksPerWorker,
    interruptGraceMs: clampTimer(interruptGraceMs.success),
    shutdownTimeoutMs: clampTimer(shutdownTimeoutMs.success),
    idleTimeoutMs: Number.isFinite(idleTimeoutMs.success) ? clampTimer(idleTimeoutMs.success) : undefined,
    execArgv,
    env,
    serialization,
    maxWorkerMemory: o.maxWorkerMemory,
    stdio
  })
}

/** `chunksize`, or its default. */
export const chunksize = (u: unknown): Result.Result<ChunkSize, string> => {
  if (u === undefined) return Result.succeed(DEFAULT_CHUNKSIZE)
  if (u === "auto" || isPositiveInteger(u)) return Result.succeed(u)
  return fail(`Expected \`chunksize\` to be a positive integer or "auto", got ${show(u)}`)
}

/** The options of `map`. */
export const mapOptions = (u: unknown): Result.Result<ChunkSize, string> => {
  if (u === undefined) return Result.succeed(DEFAULT_CHUNKSIZE)
  if (typeof u !== "object" || u === null)
    return fail(`Expected the options of \`map\` to be an object, got ${show(u)}`)
  const unknown = unknownName("option of `map`", u, ["chunksize"])
  return unknown === undefined ? chunksize((u as { chunksize?: unknown }).chunksize) : fail(unknown)
}

/** The options of `mapStream` and `asCompleted`, for a pool of `workers`. */
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

const MAX_TIMER_MS = 2 ** 31 - 1
const clampTimer = (ms: number): number => Math.min(ms, MAX_TIMER_MS)
