import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { tmpFile } from "../helpers/files.ts"
import { isAlive, waitGone } from "../helpers/processes.ts"

const program = new URL("../fixtures/parentProgram.ts", import.meta.url).pathname

/** Starts the parent program and waits until both of its workers run; answers it and their pids. */
const startParent = (options: { readonly detached: boolean }) =>
  Effect.callback<{ child: NodeChildProcess.ChildProcess; pids: Array<number>; output: () => string }, Error>(
    (resume) => {
      const marker = tmpFile("marker")
      const child = NodeChildProcess.spawn(process.execPath, [program, marker], {
        stdio: ["ignore", "pipe", "pipe"],
        detached: options.detached
      })
      let output = ""
      const timer = setTimeout(() => {
        child.kill("SIGKILL")
        resume(Effect.fail(new Error(`the parent program did not get ready:\n${output}`)))
      }, 20_000)
      child.stderr!.on("data", (d) => (output += d))
      child.stdout!.on("data", (d) => {
        output += d
        if (output.includes("ready")) {
          clearTimeout(timer)
          const pids = NodeFs.readFileSync(marker, "utf8")
            .trim()
            .split("\n")
            .map((l) => Number(l.split(" ")[1]))
          resume(Effect.succeed({ child, pids, output: () => output }))
        }
      })
    }
  )

/** Whatever a failed assertion left behind must not outlive the test. */
const killAll = (pids: ReadonlyArray<number>) =>
  Effect.sync(() => {
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL")
      } catch {
        // already gone
      }
    }
  })

describe("no orphans", () => {
  it.live("kill -9 of the parent: every worker exits within a second, even one busy in a synchronous loop", () =>
    Effect.gen(function* () {
      const { child, pids } = yield* startParent({ detached: false })
      yield* Effect.gen(function* () {
        assert.strictEqual(pids.length, 2)
        assert.isTrue(pids.every(isAlive))
        child.kill("SIGKILL")
        const ms = yield* waitGone(pids, 1_000)
        assert.isAtMost(ms, 1_000)
      }).pipe(Effect.ensuring(killAll([...pids, child.pid!])))
    })
  )

  it.live("Ctrl-C (SIGINT to the process group): the pool shuts down in order, without WorkerCrashed noise", () =>
    Effect.gen(function* () {
      const { child, output, pids } = yield* startParent({ detached: true })
      yield* Effect.gen(function* () {
        const start = Date.now()
        const exited = Effect.callback<number | null>((resume) => {
          if (child.exitCode !== null) return resume(Effect.succeed(child.exitCode))
          child.on("exit", (code) => resume(Effect.succeed(code)))
        })
        process.kill(-child.pid!, "SIGINT")
        const code = yield* exited.pipe(
          Effect.timeoutOrElse({ duration: "10 seconds", orElse: () => Effect.succeed(-1) })
        )
        assert.strictEqual(code, 130)
        // the spinning worker ignores SIGINT and is killed after interruptGrace (1 s), well within shutdownTimeout (5 s)
        assert.isBelow(Date.now() - start, 5_000)
        assert.notMatch(output(), /WorkerCrashed|ProcessPoolError/)
        yield* waitGone(pids, 1_000)
      }).pipe(Effect.ensuring(killAll([...pids, child.pid!])))
    })
  )
})
