/**
 * Validation of the cluster's options (`Cluster.layerClient`,
 * `Cluster.layerRunner`), with the convention of `../options.ts`, whose
 * helpers and pool validation it uses: a `Result` whose failure is the
 * message naming the option and the value given. Apart from `../options.ts`
 * so that a local pool does not load the cluster's modules.
 *
 * @internal
 */
import * as Result from "effect/Result"
import type { ClientOptions, RunnerOptions } from "../../Cluster.ts"
import * as Options from "../options.ts"
import type { ClientConfig } from "./clientEngine.ts"
import type { RunnerConfig } from "./runner.ts"
import { rootPath } from "./taskRef.ts"

const DEFAULTS = {
  pingIntervalMs: 500,
  pingTimeoutMs: 1_500,
  runnerTimeoutMs: 30_000,
  stopTimeoutMs: 5_000,
  maxRedeliveries: 3,
  chunksPerWorker: 2
}

const CLIENT_OPTIONS: ReadonlyArray<keyof ClientOptions> = [
  "deployment",
  "root",
  "pingInterval",
  "pingTimeout",
  "runnerTimeout",
  "maxRedeliveries",
  "chunksPerWorker",
  "stopTimeout",
  "maxQueue"
]

const deploymentOf = (u: unknown): Result.Result<string, string> =>
  typeof u === "string" && u !== ""
    ? Result.succeed(u)
    : Result.fail(`Expected \`deployment\` to be a non-empty string, got ${Options.show(u)}`)

export const runnerOptions = (options: RunnerOptions | undefined): Result.Result<RunnerConfig, string> => {
  const { deployment, root, ...pool } = options ?? ({} as RunnerOptions)
  const tag = deploymentOf(deployment)
  if (Result.isFailure(tag)) return Result.fail(tag.failure)
  const validated = Options.poolOptions(pool)
  if (Result.isFailure(validated)) return Result.fail(validated.failure)
  // a runner is there to run work: its workers start with it unless told otherwise; and
  // its workers answer in JSON whatever their kind, since its clients decode the answers
  const engine = {
    ...validated.success,
    wire: "json" as const,
    ...(pool.minWorkers === undefined ? { minWorkers: validated.success.maxWorkers } : {})
  }
  return Result.succeed({ engine, deployment: tag.success, root: rootPath(root) })
}

export const clientOptions = (options: ClientOptions | undefined): Result.Result<ClientConfig, string> => {
  const o = options ?? ({} as ClientOptions)
  const unknown = Options.unknownName("client option", o, CLIENT_OPTIONS)
  if (unknown !== undefined) return Result.fail(unknown)
  const tag = deploymentOf(o.deployment)
  if (Result.isFailure(tag)) return Result.fail(tag.failure)
  const durations: Record<string, number> = {}
  for (const [name, fallback] of [
    ["pingInterval", DEFAULTS.pingIntervalMs],
    ["pingTimeout", DEFAULTS.pingTimeoutMs],
    ["runnerTimeout", DEFAULTS.runnerTimeoutMs],
    ["stopTimeout", DEFAULTS.stopTimeoutMs]
  ] as const) {
    const value = o[name]
    const ms = value === undefined ? Result.succeed(fallback) : Options.durationMs(name, value, Options.POSITIVE_FINITE)
    if (Result.isFailure(ms)) return Result.fail(ms.failure)
    durations[name] = ms.success
  }
  const maxRedeliveries = o.maxRedeliveries ?? DEFAULTS.maxRedeliveries
  if (!(maxRedeliveries === 0 || Options.isPositiveInteger(maxRedeliveries))) {
    return Result.fail(
      `Expected \`maxRedeliveries\` to be a non-negative integer, got ${Options.show(maxRedeliveries)}`
    )
  }
  const chunksPerWorker = o.chunksPerWorker ?? DEFAULTS.chunksPerWorker
  if (!Options.isPositiveInteger(chunksPerWorker)) {
    return Result.fail(`Expected \`chunksPerWorker\` to be a positive integer, got ${Options.show(chunksPerWorker)}`)
  }
  const maxQueue = Options.maxQueueOf(o.maxQueue)
  if (Result.isFailure(maxQueue)) return Result.fail(maxQueue.failure)
  return Result.succeed({
    deployment: tag.success,
    root: rootPath(o.root),
    pingIntervalMs: durations.pingInterval!,
    pingTimeoutMs: durations.pingTimeout!,
    runnerTimeoutMs: durations.runnerTimeout!,
    stopTimeoutMs: durations.stopTimeout!,
    maxRedeliveries,
    chunksPerWorker,
    maxQueue: maxQueue.success
  })
}
