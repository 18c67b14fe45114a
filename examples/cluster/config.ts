/**
 * The cluster settings every member of the demo cluster shares: runners, the
 * client, and the tests and benchmark that start the same runners. Read from
 * the environment, as a deployment would give them.
 *
 * - `DATABASE_URL`: the PostgreSQL server that holds the cluster's runners,
 *   shard locks and messages (`@effect/sql-pg`).
 * - `RUNNER_HOST`, `RUNNER_PORT`: this runner's address (runners only).
 * - `DEPLOYMENT`: the deployment tag clients and runners compare.
 * - `SHARDING_CONFIG`: JSON of `ShardingConfig` fields over `failover` (the
 *   tests and the benchmark use it to compare settings).
 */

import * as PgClient from "@effect/sql-pg/PgClient"
import * as RunnerAddress from "effect/cluster/RunnerAddress"
import type * as ShardingConfig from "effect/cluster/ShardingConfig"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"

/**
 * Settings that make the cluster itself notice a dead runner and move its
 * shards within a few seconds (see docs/cluster-notes.md for the measurements):
 * the client does not wait for this (it watches runners itself), but a
 * runner's shards are unreachable until they move, and a joining runner gets
 * shards only at an assignment refresh.
 */
export const failover: Partial<ShardingConfig.ShardingConfig["Service"]> = {
  shardLockExpiration: "6 seconds",
  shardLockRefreshInterval: "2 seconds",
  runnerHealthCheckInterval: "2 seconds",
  refreshAssignmentsInterval: "1 second"
}

export const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback
  if (value === undefined) throw new Error(`Set ${name}`)
  return value
}

export const deployment = (): string => env("DEPLOYMENT", "demo")

/** The storage layer of every member: one PostgreSQL client. */
export const storage = (): Layer.Layer<PgClient.PgClient | SqlClient, SqlError> =>
  PgClient.layer({ url: Redacted.make(env("DATABASE_URL")) })

/** `failover`, with the fields of `SHARDING_CONFIG` over it. */
export const sharding = (): Partial<ShardingConfig.ShardingConfig["Service"]> => ({
  ...failover,
  ...(process.env.SHARDING_CONFIG ? JSON.parse(process.env.SHARDING_CONFIG) : {})
})

/** A runner's sharding settings. */
export const runnerSharding = (): Partial<ShardingConfig.ShardingConfig["Service"]> => ({
  ...sharding(),
  runnerAddress: Option.some(RunnerAddress.make(env("RUNNER_HOST", "127.0.0.1"), Number(env("RUNNER_PORT"))))
})
