/**
 * Validation of the pool's options and of the per-call options (`chunksize`,
 * `bufferSize`). Invalid options are programming errors: the effect dies at
 * once with an `IllegalArgumentError` whose message names the option and the
 * value given, in the style of p-map: ``Expected `maxWorkers` to be a positive
 * integer, got `0` (number)``.
 *
 * @internal
 */

import * as NodeOs from "node:os"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { Options } from "../ProcessPool.ts"
import type { EngineOptions } from "./engine.ts"

/** Defaults of the options that have one; see `ProcessPool.Options` for each. */
export const DEFAULT_INTERRUPT_GRACE_MS = 1_000
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5_000

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

export const illegal = (message: string): Effect.Effect<never> => Effect.die(new Cause.IllegalArgumentError(message))

export const isPositiveInteger = (u: unknown): u is number => typeof u === "number" && Number.isSafeInteger(u) && u > 0

/**
 * A duration option in milliseconds, or the message saying why it is invalid.
 * Only `idleTimeout` may be infinite (it means "never"): every other wait has a bound.
 */
export const durationMs = (
  name: string,
  u: unknown,
  rules: { readonly allowZero: boolean; readonly allowInfinite: boolean }
): number | string => {
  let ms: number
  try {
    ms = Duration.toMillis(Duration.fromInputUnsafe(u as Duration.Input))
  } catch {
    return `Expected \`${name}\` to be a duration (milliseconds, or a string such as "5 seconds"), got ${show(u)}`
  }
  if (Number.isNaN(ms) || ms < 0 || (!rules.allowZero && ms === 0)) {
    return `Expected \`${name}\` to be a ${rules.allowZero ? "non-negative" : "positive"} duration, got ${show(u)}`
  }
  if (!rules.allowInfinite && !Number.isFinite(ms)) {
    return `Expected \`${name}\` to be a finite duration, got ${show(u)}`
  }
  return ms
}

/**
 * The engine's options from the user's, or the message of the first invalid one.
 */
export const validatePoolOptions = (input: Options | undefined): EngineOptions | string => {
  const o = input ?? {}
  if (typeof o !== "object") return `Expected the pool options to be an object, got ${show(o)}`
  const maxWorkers = o.maxWorkers ?? NodeOs.availableParallelism()
  if (!isPositiveInteger(maxWorkers)) {
    return `Expected \`maxWorkers\` to be a positive integer, got ${show(o.maxWorkers)}`
  }
  const minWorkers = o.minWorkers ?? 0
  if (typeof minWorkers !== "number" || !Number.isSafeInteger(minWorkers) || minWorkers < 0) {
    return `Expected \`minWorkers\` to be a non-negative integer, got ${show(o.minWorkers)}`
  }
  if (minWorkers > maxWorkers) {
    return `Expected \`minWorkers\` to be at most \`maxWorkers\` (${maxWorkers}), got ${show(minWorkers)}`
  }
  if (o.maxTasksPerWorker !== undefined && !isPositiveInteger(o.maxTasksPerWorker)) {
    return `Expected \`maxTasksPerWorker\` to be a positive integer, got ${show(o.maxTasksPerWorker)}`
  }
  const interruptGraceMs =
    o.interruptGrace === undefined
      ? DEFAULT_INTERRUPT_GRACE_MS
      : durationMs("interruptGrace", o.interruptGrace, { allowZero: true, allowInfinite: false })
  if (typeof interruptGraceMs === "string") return interruptGraceMs
  const shutdownTimeoutMs =
    o.shutdownTimeout === undefined
      ? DEFAULT_SHUTDOWN_TIMEOUT_MS
      : durationMs("shutdownTimeout", o.shutdownTimeout, { allowZero: true, allowInfinite: false })
  if (typeof shutdownTimeoutMs === "string") return shutdownTimeoutMs
  const idleTimeoutMs =
    o.idleTimeout === undefined
      ? undefined
      : durationMs("idleTimeout", o.idleTimeout, { allowZero: false, allowInfinite: true })
  if (typeof idleTimeoutMs === "string") return idleTimeoutMs
  const execArgv = o.execArgv ?? process.execArgv
  if (!Array.isArray(execArgv) || !execArgv.every((a) => typeof a === "string")) {
    return `Expected \`execArgv\` to be an array of strings, got ${show(o.execArgv)}`
  }
  const env = o.env ?? {}
  if (typeof env !== "object" || env === null || !Object.values(env).every((v) => typeof v === "string")) {
    return `Expected \`env\` to be an object of strings, got ${show(o.env)}`
  }
  if (o.maxWorkerMemory !== undefined && !isPositiveInteger(o.maxWorkerMemory)) {
    return `Expected \`maxWorkerMemory\` to be a positive integer (bytes), got ${show(o.maxWorkerMemory)}`
  }
  const stdio = o.stdio ?? "inherit"
  if (stdio !== "inherit" && stdio !== "log") {
    return `Expected \`stdio\` to be "inherit" or "log", got ${show(o.stdio)}`
  }
  const serialization = o.serialization ?? "json"
  if (serialization !== "json" && serialization !== "advanced") {
    return `Expected \`serialization\` to be "json" or "advanced", got ${show(o.serialization)}`
  }
  return {
    maxWorkers,
    minWorkers,
    maxTasksPerWorker: o.maxTasksPerWorker,
    interruptGraceMs: clampTimer(interruptGraceMs),
    shutdownTimeoutMs: clampTimer(shutdownTimeoutMs),
    idleTimeoutMs:
      idleTimeoutMs === undefined || !Number.isFinite(idleTimeoutMs) ? undefined : clampTimer(idleTimeoutMs),
    execArgv,
    env,
    serialization,
    maxWorkerMemory: o.maxWorkerMemory,
    stdio
  }
}

const MAX_TIMER_MS = 2 ** 31 - 1
const clampTimer = (ms: number): number => Math.min(ms, MAX_TIMER_MS)
