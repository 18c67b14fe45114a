/**
 * Runs every program in examples/ as a user would (`node examples/x.ts`), so
 * that none can rot: each must exit 0 and print what it promises. A server,
 * which runs until stopped, has a test of its own that starts it, talks to it
 * and stops it. An example without an expectation or a test here fails the
 * suite.
 */
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { primesIn } from "../examples/tasks/primes.ts"
import { processesInGroup } from "./helpers/processes.ts"
import { start as startProgram } from "./helpers/programs.ts"

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
  // the take's scope closed only once the worker had stopped the parse and closed the file
  "stream-records.ts":
    /^[^\n]*closed the file after 200000 lines[^\n]*task: 'records'[^\n]*\nparsed 200000 records from a \d+ MB file, total amount 99900000\nthe same total as the file's: true\n[^\n]*closed the file after \d+ lines[^\n]*\nthe first three: 0:name-0:0 1:name-1:919 2:name-2:838$/,
  "observability.ts":
    /(inspecting \d \{ workerId: \d+, (pid|threadId): \d+, task: 'inspect' \}[\s\S]*){3}results: 10, 20, 30\nmetric process_pool_tasks_completed\{task="inspect"\}: \{"count":3/,
  "basic-map.ts": new RegExp(`^\\[\\n${"  333332833333500000n,?\\n".repeat(8)}\\]$`),
  "submit.ts": /^n=10000: 333283335000\nn=20000: 2666466670000\nn=30000: 8999550005000$/,
  "exceptions.ts": /^0\n1\n4\ncaught: n=3 error\n16$/,
  "max-queue.ts":
    /^submitted 400 tasks from one fiber; when it was done, all but the last few had run\ninputs waiting in the pool: never more than 16\nsum of the results: 1098932252066600$/,
  "max-workers.ts":
    /default \(one per core\): \d+ workers ran \d+ tasks[\s\S]*max_workers = cores \* 2: \d+ workers ran/,
  "primes.ts":
    /total: 348513 primes \(same both ways\)\nsequential, in this process: +[\d.]+ s\npool of \d+ workers.*\nmachine: \d+ cores, load average [\d.]+ when the job began(\na busy machine: .*)?$/,
  // the worker's interruption is logged before the call rejects: the rejection waited for the task to stop
  "promise.ts":
    /^primes below 1,000,000: 78498\n.*interrupted in worker \d+: stopped counting.*\nrejected: AbortError: This operation was aborted\nrejected: TooLarge, to=2000000000\ncrashed: 0, restarted: 0$/
}

// servers, and the test that runs each
const servers: Record<string, string> = {
  "http-server.ts": "http-server.test.ts"
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
  it("every example has an expectation, or a test of its own", () => {
    assert.deepStrictEqual(
      examples.filter((f) => !(f in expectations) && !(f in servers)),
      []
    )
    for (const [example, test] of Object.entries(servers)) {
      assert.include(NodeFs.readFileSync(new URL(test, import.meta.url), "utf8"), `examples/${example}`)
    }
  })

  for (const file of examples.filter((f) => f in expectations)) {
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

describe("npm run example", () => {
  const npm = (args: ReadonlyArray<string>) =>
    Effect.sync(() =>
      NodeChildProcess.spawnSync("npm", ["run", "--silent", "example", "--", ...args], {
        cwd: new URL("..", import.meta.url).pathname,
        encoding: "utf8",
        timeout: 60_000
      })
    )

  it.live(
    "runs the example it is given by name",
    () =>
      Effect.gen(function* () {
        const { status, stderr, stdout } = yield* npm(["submit"])
        assert.strictEqual(status, 0, stderr)
        assert.match(stdout.trim(), expectations["submit.ts"]!)
      }),
    90_000
  )

  it.live("names the examples when the name is missing or unknown", () =>
    Effect.gen(function* () {
      for (const args of [[], ["nope"]]) {
        const { status, stderr } = yield* npm(args)
        assert.strictEqual(status, 2)
        assert.include(stderr, "npm run example -- <name>")
        assert.include(stderr, "basic-map, chunksize")
      }
    })
  )
})

describe("npm start", () => {
  it.live(
    "answers Ctrl-C during its sequential phase within a fraction of that phase",
    () =>
      Effect.gen(function* () {
        // the baseline: the sequential phase's work, timed here in the same run
        const LIMIT = 5_000_000
        const RANGES = 40
        let start = performance.now()
        for (let i = 0; i < RANGES; i++) primesIn({ from: (i * LIMIT) / RANGES, to: ((i + 1) * LIMIT) / RANGES })
        const sequentialMs = performance.now() - start

        const program = yield* startProgram([
          "--conditions=effect-process-pool:source",
          new URL("primes.ts", dir).pathname
        ])
        yield* program.waitFor(/Counting the primes/, 20_000)
        yield* Effect.sleep(sequentialMs / 5)
        start = performance.now()
        const exited = yield* program.stop("SIGINT", 60_000)
        const answeredMs = performance.now() - start
        const report = `sequential phase ${sequentialMs.toFixed(0)} ms; exited ${answeredMs.toFixed(0)} ms after SIGINT`
        console.log(report)
        assert.deepStrictEqual(exited, { code: 130, signal: null }, program.output())
        assert.notInclude(program.output(), "sequential, in this process")
        // a blocked phase would answer only at its end, after about 4/5 of it
        assert.isBelow(answeredMs, sequentialMs / 3, report)
      }),
    90_000
  )
})
