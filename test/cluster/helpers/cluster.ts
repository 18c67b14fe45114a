/**
 * A real cluster for a test file: PostgreSQL and runner processes on
 * loopback, built once as a layer (`@effect/vitest`'s `layer`) and torn down
 * when the file ends, pass or fail. The teardown checks itself: it fails the
 * file if a runner, one of its workers or the server is still alive, or the
 * server's folder is still there.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as Context from "effect/Context"
import type { Sharding } from "effect/cluster/Sharding"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as H from "../../../scripts/cluster/harness.ts"
import type { Server } from "../../../scripts/cluster/postgres.ts"
import * as Cluster from "../../../src/Cluster.ts"
import type * as ProcessPool from "../../../src/ProcessPool.ts"
import { tmpFile } from "../../helpers/files.ts"
import { childrenOf, waitGone } from "../../helpers/processes.ts"

export interface TestClusterShape {
  readonly server: Server
  readonly runners: Array<H.RunnerProcess>
  /** starts one more runner, stopped with the cluster */
  readonly addRunner: (options?: Partial<H.RunnerSpec>) => Effect.Effect<H.RunnerProcess, Error>
  /** a client pool over the cluster, through the file's one client-only `Sharding` */
  readonly client: (options?: Partial<Cluster.ClientOptions>) => Layer.Layer<ProcessPool.ProcessPool>
}

export class TestCluster extends Context.Service<TestCluster, TestClusterShape>()("test/TestCluster") {}

export const DEPLOYMENT = "test"

/** Short client timeouts: a test that goes wrong fails in seconds rather than hanging. */
const CLIENT_DEFAULTS: Partial<Cluster.ClientOptions> = { runnerTimeout: "10 seconds" }

export const layer = (options: {
  readonly runners: number
  readonly maxWorkers: number
  readonly workerType?: "process" | "thread"
}): Layer.Layer<TestCluster, Error> =>
  Layer.effect(
    TestCluster,
    Effect.gen(function* () {
      const scope = yield* Effect.scope
      const pids: Array<number> = []
      let dir: string | undefined
      // registered first, so it runs last: once everything has been stopped
      yield* Effect.addFinalizer(() =>
        Effect.gen(function* () {
          yield* Effect.orDie(waitGone([...pids], 15_000))
          if (dir !== undefined && NodeFs.existsSync(dir)) {
            return yield* Effect.die(new Error(`the server's folder ${dir} was left behind`))
          }
        })
      )
      const server = yield* H.postgres
      dir = server.dir
      pids.push(server.pid)
      /** the runner and, when the teardown starts, its workers: all must be gone at the end */
      const track = (runner: H.RunnerProcess) =>
        Effect.as(
          Effect.addFinalizer(() => Effect.sync(() => pids.push(runner.pid, ...childrenOf(runner.pid)))),
          runner
        )
      const spec = (extra?: Partial<H.RunnerSpec>): H.RunnerSpec => ({
        databaseUrl: server.url,
        deployment: DEPLOYMENT,
        maxWorkers: options.maxWorkers,
        workerType: options.workerType,
        // a runner's logs show only for a test that fails
        stdio: "console",
        ...extra
      })
      const runners = yield* Effect.all(
        Array.from({ length: options.runners }, () => H.startRunner(spec())),
        { concurrency: "unbounded" }
      )
      for (const runner of runners) yield* track(runner)
      if (options.runners > 0) yield* H.settled(server.url, options.runners)
      const sharding = yield* Layer.build(H.clientSharding(server.url))
      return TestCluster.of({
        server,
        runners,
        addRunner: (extra) =>
          H.startRunner(spec(extra)).pipe(
            Effect.tap((runner) => Effect.sync(() => runners.push(runner))),
            Effect.tap(track),
            Scope.provide(scope)
          ),
        client: (clientOptions) =>
          Cluster.layerClient({ deployment: DEPLOYMENT, ...CLIENT_DEFAULTS, ...clientOptions }).pipe(
            Layer.provide(Layer.succeedContext(sharding as Context.Context<Sharding>))
          )
      })
    })
  )

/** A marker file path in a fresh temporary folder, removed with the test's scope. */
export const markerFile = (name: string): Effect.Effect<string, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => tmpFile(name)),
    (file) => Effect.sync(() => NodeFs.rmSync(NodePath.dirname(file), { recursive: true, force: true }))
  )
