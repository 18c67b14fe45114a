/**
 * Whether workers can start, and whether a task's module can load: the
 * record of consecutive start failures, of workers killed while starting,
 * and of modules that failed to import, with the back-off each earns (see
 * `Policy.backoffMs`). The engine asks it before it starts a worker or
 * queues a job, and tells it what happened.
 *
 * @internal
 */
import type { WorkerStartError } from "../ProcessPoolError.ts"
import * as Policy from "./policy.ts"

/**
 * A worker killed by SIGKILL or SIGTERM while starting was most likely killed
 * from outside (an operator, the OOM killer), which says nothing about whether
 * workers can start: the pool retries without failing queued tasks — up to
 * this many times in a row, after which it treats the kills as a start failure.
 */
export const MAX_KILLED_STARTS = 5

export interface StartHealth {
  /** consecutive failed starts (reset when a worker is ready) */
  failures: number
  /** consecutive starts killed from outside (reset when a worker is ready) */
  killed: number
  /** no worker is started before this (`performance.now()`) */
  nextStartAt: number
  /** set while no worker can start: new jobs fail at once until the next attempt */
  broken: WorkerStartError | undefined
  /** modules that failed to import: their jobs fail at once until `retryAt` */
  readonly modules: Map<
    string,
    { readonly error: WorkerStartError; readonly retryAt: number; readonly failures: number }
  >
}

export const make = (): StartHealth => ({
  failures: 0,
  killed: 0,
  nextStartAt: 0,
  broken: undefined,
  modules: new Map()
})

/** A worker is ready: starts work again. */
export const started = (health: StartHealth): void => {
  health.failures = 0
  health.killed = 0
  health.broken = undefined
  // workers start again: the next one need not wait out the last back-off
  health.nextStartAt = 0
}

/**
 * A worker died before it was ready. Killed from outside fewer than
 * `MAX_KILLED_STARTS` times in a row, it is retried after a back-off and
 * nothing fails (`"retry"`); otherwise it is a start failure (`"failed"`).
 */
export const startFailed = (health: StartHealth, killedFromOutside: boolean, now: number): "retry" | "failed" => {
  if (killedFromOutside && ++health.killed < MAX_KILLED_STARTS) {
    health.nextStartAt = now + Policy.backoffMs(health.killed)
    return "retry"
  }
  health.failures++
  health.nextStartAt = now + Policy.backoffMs(health.failures)
  return "failed"
}

/** No worker is alive and none could start: new jobs fail with `error` until the next attempt. */
export const noneCanStart = (health: StartHealth, error: WorkerStartError): void => {
  health.broken = error
}

/** After a start failure, workers start one at a time until one is ready. */
export const oneAtATime = (health: StartHealth): boolean => health.failures > 0

/** Why a job for `module` is refused at once, if it is. After `retryAt` the next one is the trial. */
export const refusal = (
  health: StartHealth,
  module: string,
  now: number,
  live: number
): WorkerStartError | undefined => {
  const broken = health.modules.get(module)
  if (broken !== undefined && now < broken.retryAt) return broken.error
  if (health.broken !== undefined && now < health.nextStartAt && live === 0) return health.broken
  return undefined
}

/** A module failed to import (or its worker died loading it): its jobs are refused for a while. */
export const moduleBroken = (health: StartHealth, module: string, error: WorkerStartError, now: number): void => {
  const failures = (health.modules.get(module)?.failures ?? 0) + 1
  health.modules.set(module, { error, retryAt: now + Policy.backoffMs(failures), failures })
}

/** A job of `module` was answered: the module loads. */
export const moduleLoads = (health: StartHealth, module: string): void => {
  if (health.modules.size > 0) health.modules.delete(module)
}
