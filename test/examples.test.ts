/**
 * Runs every program in examples/ as a user would (`node examples/x.ts`), so
 * that none can rot: each must exit 0 and print what it promises. An example
 * without an expectation here fails the suite.
 */
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { processesInGroup } from "./helpers/processes.ts"

const dir = new URL("../examples/", import.meta.url)

const expectations: Record<string, RegExp> = {
  "as-completed.ts":
    /^(n=(10000: 333283335000|20000: 2666466670000|30000: 8999550005000)\n){3}(n=(0: 0|1: 1|2: 4|3: error — n=3 error|4: 16)(\n|$)){5}$/,
  "chunksize.ts":
    /^chunksize 1000 +: 100000 results, last 9999800001, \d+ ms\nchunksize 1 +: 100000 results.*\nchunksize "auto": 100000 results, last 9999800001, \d+ ms$/,
  "timeout.ts":
    /^a 60 s loop under a 200 ms timeout: None, back after under 2 s\nthe next task ran: true\ncrashed: 0, restarted: 1$/,
  "worker-crash.ts": /^1: 1\n2: 4\n3: the worker died \(exit code 70\)\n4: 16\n5: 25\ncrashed: 1, restarted: 1$/,
  "initializer.ts":
    /^[^\n]*building the hasher \(once in this worker\)[^\n]*task: 'hash'[^\n]*\n([0-9a-f]{16}\n){4}[^\n]*releasing the hasher[^\n]*$/,
  "stream.ts": /^1 4 16 25 49 64 100 121$/,
  "observability.ts":
    /(inspecting \d \{ workerId: \d+, pid: \d+, task: 'inspect' \}[\s\S]*){3}results: 10, 20, 30\nmetric process_pool_tasks_completed\{task="inspect"\}: \{"count":3/,
  "basic-map.ts": new RegExp(`^\\[\\n${"  333332833333500000n,?\\n".repeat(8)}\\]$`),
  "submit.ts": /^n=10000: 333283335000\nn=20000: 2666466670000\nn=30000: 8999550005000$/,
  "exceptions.ts": /^0\n1\n4\ncaught: n=3 error\n16$/,
  "max-workers.ts":
    /default \(one per core\): \d+ workers ran \d+ tasks[\s\S]*max_workers = cores \* 2: \d+ workers ran/,
  "primes.ts": /total: 348513 primes \(same both ways\)\nsequential, in this process: +[\d.]+ s\npool of \d+ workers/
}

const examples = NodeFs.readdirSync(dir).filter((f) => f.endsWith(".ts"))

const runExample = (file: string) =>
  Effect.callback<{ code: number | null; stdout: string; stderr: string; group: number }>((resume) => {
    const child = NodeChildProcess.spawn(
      process.execPath,
      ["--conditions=effect-process-pool:source", new URL(file, dir).pathname],
      // its own process group, so that whatever it leaves behind can be found
      { stdio: ["ignore", "pipe", "pipe"], detached: true }
    )
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000)
    child.on("close", (code) => {
      clearTimeout(timer)
      resume(Effect.succeed({ code, stdout: stdout.trim(), stderr, group: child.pid! }))
    })
  })

describe("examples", () => {
  it("every example has an expectation", () => {
    assert.deepStrictEqual(
      examples.filter((f) => !(f in expectations)),
      []
    )
  })

  for (const file of examples) {
    it.live(
      file,
      () =>
        Effect.gen(function* () {
          const { code, group, stderr, stdout } = yield* runExample(file)
          assert.strictEqual(code, 0, stderr)
          assert.match(stdout, expectations[file]!)
          assert.deepStrictEqual(processesInGroup(group), [], "the example left processes behind")
        }),
      90_000
    )
  }
})
