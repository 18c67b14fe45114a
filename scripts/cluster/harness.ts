/**
 * A cluster on this machine, for the tests, the benchmark and the demo:
 * PostgreSQL (`postgres.ts`), runner processes (`examples/cluster/runner.ts`,
 * or the same file in a copy of the repo) on free loopback ports, and the
 * sharding layer of a client-only member. Everything lives in a scope:
 * closing it stops the runners (SIGTERM, SIGKILL after `RUNNER_STOP_MS`)
 * and then the server, whatever happened before. A runner also leaves by
 * itself when this process dies (its IPC channel closes).
 */
import * as NodeChildProcess from "node:child_process"
import * as NodeNet from "node:net"
import * as NodeUrl from "node:url"
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import * as PgClient from "@effect/sql-pg/PgClient"
import type { Sharding } from "effect/cluster/Sharding"
import type * as ShardingConfig from "effect/cluster/ShardingConfig"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Redacted from "effect/Redacted"
import * as References from "effect/References"
import type * as Scope from "effect/Scope"
import { SqlClient } from "effect/sql/SqlClient"
import { failover } from "../../examples/cluster/config.ts"
import * as Postgres from "./postgres.ts"

/** A runner that has not said it is ready this long after its spawn is killed: a start never waits for ever. */
const RUNNER_START_MS = 30_000
/** A runner asked to stop (SIGTERM) that has not exited this long after is killed. */
const RUNNER_STOP_MS = 10_000

export const repoRoot = NodeUrl.fileURLToPath(new URL("../../", import.meta.url))

export interface RunnerProcess {
  readonly pid: number
  readonly port: number
  /** kills it at once (SIGKILL), as a machine that dies */
  readonly kill: () => void
  /** resolves once it has exited */
  readonly exited: Effect.Effect<void>
  /** stops it as a deployment would (SIGTERM; SIGKILL after `RUNNER_STOP_MS`) and waits for it to exit */
  readonly stop: Effect.Effect<void>
}

export interface RunnerSpec {
  readonly databaseUrl: string
  readonly deployment: string
  readonly maxWorkers?: number | undefined
  /** its local pool's kind of worker (default: the pool's default, processes) */
  readonly workerType?: "process" | "thread" | undefined
  /** the copy of the repo the runner runs from (its deployment root). Default: this repo. */
  readonly root?: string | undefined
  readonly env?: Readonly<Record<string, string>> | undefined
  /**
   * where its output goes: "inherit"; "ignore" (the benchmark); "console"
   * (the tests: through this process's `console`, which vitest shows only for
   * a test that fails, so that a green run reads green)
   */
  readonly stdio?: "inherit" | "ignore" | "console" | undefined
}

/** A runner's stdio for each `RunnerSpec.stdio`; fd 3 is the IPC channel it says "ready" on. */
const RUNNER_STDIO: Record<NonNullable<RunnerSpec["stdio"]>, NodeChildProcess.StdioOptions> = {
  inherit: ["ignore", "inherit", "inherit", "ipc"],
  ignore: ["ignore", "ignore", "ignore", "ipc"],
  console: ["ignore", "pipe", "pipe", "ipc"]
}

const freePort = (): Effect.Effect<number, Error> =>
  Effect.callback<number, Error>((resume) => {
    const server = NodeNet.createServer()
    server.once("error", (error) => resume(Effect.fail(error)))
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as NodeNet.AddressInfo).port
      server.close(() => resume(Effect.succeed(port)))
    })
  })

/** Starts a runner process that lives until the scope closes (or it is killed). */
export const startRunner = (spec: RunnerSpec): Effect.Effect<RunnerProcess, Error, Scope.Scope> =>
  Effect.gen(function* () {
    const port = yield* freePort()
    const root = spec.root ?? repoRoot
    const child = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const child = NodeChildProcess.fork(`${root}/examples/cluster/runner.ts`, [], {
          cwd: root,
          execArgv: ["--conditions=effect-process-pool:source"],
          env: {
            ...process.env,
            ...spec.env,
            DATABASE_URL: spec.databaseUrl,
            RUNNER_HOST: "127.0.0.1",
            RUNNER_PORT: String(port),
            DEPLOYMENT: spec.deployment,
            ROOT: root,
            ...(spec.maxWorkers !== undefined ? { MAX_WORKERS: String(spec.maxWorkers) } : {}),
            ...(spec.workerType !== undefined ? { WORKER_TYPE: spec.workerType } : {})
          },
          stdio: RUNNER_STDIO[spec.stdio ?? "inherit"]
        })
        if (spec.stdio === "console") {
          child.stdout?.setEncoding("utf8").on("data", (text: string) => console.log(text.trimEnd()))
          child.stderr?.setEncoding("utf8").on("data", (text: string) => console.error(text.trimEnd()))
        }
        return child
      }),
      (child) => stop(child)
    )
    yield* Effect.callback<void, Error>((resume) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL")
        resume(Effect.fail(new Error(`runner on port ${port} did not start within ${RUNNER_START_MS} ms`)))
      }, RUNNER_START_MS)
      const onExit = (code: number | null, signal: string | null) => {
        clearTimeout(timer)
        resume(Effect.fail(new Error(`runner on port ${port} exited (${signal ?? code}) while starting`)))
      }
      child.once("exit", onExit)
      child.once("message", () => {
        clearTimeout(timer)
        child.off("exit", onExit)
        resume(Effect.void)
      })
    })
    return {
      pid: child.pid!,
      port,
      kill: () => {
        child.kill("SIGKILL")
      },
      stop: stop(child),
      exited: Effect.callback<void>((resume) => {
        if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
        child.once("exit", () => resume(Effect.void))
      })
    }
  })

const stop = (child: NodeChildProcess.ChildProcess): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    const timer = setTimeout(() => child.kill("SIGKILL"), RUNNER_STOP_MS)
    child.once("exit", () => {
      clearTimeout(timer)
      resume(Effect.void)
    })
    child.kill("SIGTERM")
  })

/** The sharding layer of a client-only member of the cluster whose storage is at `databaseUrl`. */
export const clientSharding = (
  databaseUrl: string,
  shardingConfig?: Partial<ShardingConfig.ShardingConfig["Service"]>
): Layer.Layer<Sharding> =>
  NodeClusterSocket.layer({ clientOnly: true, shardingConfig: { ...failover, ...shardingConfig } }).pipe(
    Layer.provide(PgClient.layer({ url: Redacted.make(databaseUrl) })),
    Layer.orDie
  )

/**
 * Waits (at most `SETTLE_MS`) until the runners have shared out the shards:
 * `runners` sessions hold advisory locks, 300 in all. Runners that start
 * together first take shards from each other; a test that starts then would
 * see the cluster mid-change.
 */
export const settled = (url: string, runners: number): Effect.Effect<void, Error> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient
    const start = Date.now()
    for (;;) {
      const rows = yield* sql<{
        n: number
      }>`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted GROUP BY pid`
      if (rows.length === runners && rows.reduce((t, r) => t + r.n, 0) === SHARDS) return
      if (Date.now() - start > SETTLE_MS) {
        return yield* Effect.fail(
          new Error(`the runners did not share the shards within ${SETTLE_MS} ms: ${JSON.stringify(rows)}`)
        )
      }
      yield* Effect.sleep(100)
    }
  }).pipe(
    Effect.provide(PgClient.layer({ url: Redacted.make(url) })),
    Effect.mapError((e) => new Error(String(e)))
  )

/**
 * When the client declared each runner lost (its Warn log "a runner is
 * lost", annotated with the runner's address), by address: where the
 * failover tests and the failover benchmark count from. With
 * `mergeWithExisting`, the client's other logs still go to the default logger.
 */
export const lossLog = (options?: { readonly mergeWithExisting?: boolean }) => {
  const lost = new Map<string, number>()
  const logger = Logger.make(({ fiber, message }) => {
    const [text] = message as ReadonlyArray<unknown>
    if (typeof text === "string" && text.startsWith("a runner is lost")) {
      const runner = fiber.getRef(References.CurrentLogAnnotations).runner
      if (typeof runner === "string" && !lost.has(runner)) lost.set(runner, Date.now())
    }
  })
  return { lost, layer: Logger.layer([logger], options) }
}

const SHARDS = 300
const SETTLE_MS = 20_000

/** PostgreSQL for the scope's life; see `postgres.ts`. */
export const postgres: Effect.Effect<Postgres.Server, Error, Scope.Scope> = Postgres.start
