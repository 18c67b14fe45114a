/**
 * The cluster demo (`npm run cluster:demo`), run as a user would: PostgreSQL,
 * two runners, the client counting primes across them, then everything gone.
 */
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { processesInGroup } from "../helpers/processes.ts"

const DEMO_TIMEOUT_MS = 120_000

const runDemo = () =>
  Effect.callback<{ code: number | null; stdout: string; stderr: string; group: number }>((resume) => {
    const child = NodeChildProcess.spawn(
      process.execPath,
      ["--conditions=effect-process-pool:source", new URL("../../examples/cluster/demo.ts", import.meta.url).pathname],
      // its own process group, so that whatever it leaves behind can be found
      { stdio: ["ignore", "pipe", "pipe"], detached: true }
    )
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), DEMO_TIMEOUT_MS)
    child.on("close", (code) => {
      clearTimeout(timer)
      resume(Effect.succeed({ code, stdout, stderr, group: child.pid! }))
    })
  })

describe("the cluster demo", () => {
  it.live(
    "counts the primes on two runners and leaves nothing behind",
    () =>
      Effect.gen(function* () {
        const { code, group, stderr, stdout } = yield* runDemo()
        assert.strictEqual(code, 0, stderr)
        // the same count as the local main job (examples/primes.ts)
        assert.match(stdout, /^total: 348513 primes below 5,000,000$/m)
        assert.match(stdout, /^on the cluster's 2 runners: [\d.]+ s$/m)
        const dir = /storage: PostgreSQL on 127\.0\.0\.1:\d+ \((\/[^)]+)\)/.exec(stdout)?.[1]
        assert.isDefined(dir)
        assert.isFalse(NodeFs.existsSync(dir!), "the server's folder was left behind")
        assert.deepStrictEqual(processesInGroup(group), [], "the demo left processes behind")
      }),
    DEMO_TIMEOUT_MS + 10_000
  )
})
