/**
 * Programs run as a user runs them: a real `node` child, in a process group of
 * its own so that whatever it leaves behind can be found. Every wait has a
 * bound, and the scope's finalizer kills whatever is still alive, so a failed
 * assertion leaves no process behind.
 */
import * as NodeChildProcess from "node:child_process"
import { Effect, type Scope } from "effect"

/** How a program ended. */
export interface Exited {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

/** A running program. */
export interface Program {
  readonly pid: number
  /** Its stdout and stderr so far, interleaved as they arrived. */
  readonly output: () => string
  /** The first match of `pattern` in the output; fails after `withinMs`, or at once if the program ended without it. */
  readonly waitFor: (pattern: RegExp, withinMs: number) => Effect.Effect<RegExpMatchArray, Error>
  /** Waits for the program to end by itself; fails after `withinMs`. */
  readonly ended: (withinMs: number) => Effect.Effect<Exited, Error>
  /** Sends `signal` to the program (not to its group) and waits for it to end; fails after `withinMs`. */
  readonly stop: (signal: NodeJS.Signals, withinMs: number) => Effect.Effect<Exited, Error>
}

/** Kills whatever is still alive in a process group. */
export const killGroup = (group: number): void => {
  try {
    process.kill(-group, "SIGKILL")
  } catch {
    // gone in the meantime
  }
}

/**
 * Starts `node <args>` with the parent's Node (`process.execPath`) in `cwd`,
 * with `env` added to the environment, for the life of the current scope.
 */
export const start = (
  args: ReadonlyArray<string>,
  options: {
    readonly cwd?: string
    readonly env?: Record<string, string>
    /** the most file descriptors the program may hold (`ulimit -n`) */
    readonly maxFiles?: number
  } = {}
): Effect.Effect<Program, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const [command, argv] =
        options.maxFiles === undefined
          ? [process.execPath, args]
          : ["/bin/sh", ["-c", `ulimit -n ${options.maxFiles} && exec "$0" "$@"`, process.execPath, ...args]]
      const child = NodeChildProcess.spawn(command, argv, {
        cwd: options.cwd,
        env: { ...process.env, ...options.env },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true
      })
      let output = ""
      let exited: Exited | undefined
      const onExit: Array<(exited: Exited) => void> = []
      child.stdout.on("data", (d) => (output += d))
      child.stderr.on("data", (d) => (output += d))
      // 'close', not 'exit': by then all of its output has arrived
      child.on("close", (code, signal) => {
        exited = { code, signal }
        for (const f of onExit.splice(0)) f(exited)
      })

      const waitFor = (pattern: RegExp, withinMs: number) =>
        Effect.gen(function* () {
          const startedAt = Date.now()
          for (;;) {
            const match = output.match(pattern)
            if (match !== null) return match
            if (exited !== undefined) {
              return yield* Effect.fail(
                new Error(`ended (${JSON.stringify(exited)}) before printing ${pattern}:\n${output}`)
              )
            }
            if (Date.now() - startedAt > withinMs) {
              return yield* Effect.fail(new Error(`no ${pattern} after ${withinMs} ms:\n${output}`))
            }
            yield* Effect.sleep(20)
          }
        })

      const awaitEnd = (withinMs: number, send: () => void, what: string) =>
        Effect.callback<Exited, Error>((resume) => {
          if (exited !== undefined) return resume(Effect.succeed(exited))
          const timer = setTimeout(
            () => resume(Effect.fail(new Error(`still running ${withinMs} ms ${what}:\n${output}`))),
            withinMs
          )
          onExit.push((e) => {
            clearTimeout(timer)
            resume(Effect.succeed(e))
          })
          send()
        })
      const ended = (withinMs: number) => awaitEnd(withinMs, () => {}, "after it started")
      const stop = (signal: NodeJS.Signals, withinMs: number) =>
        awaitEnd(withinMs, () => child.kill(signal), `after ${signal}`)

      return { pid: child.pid!, output: () => output, waitFor, ended, stop } satisfies Program
    }),
    (program) => Effect.sync(() => killGroup(program.pid))
  )
