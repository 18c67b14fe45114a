/**
 * A worker its kind could not create (EMFILE, E2BIG, an option Node refuses):
 * the handle the kind answers `spawn` with, whose end is reported later,
 * never from inside `spawn` (the engine has not registered the worker yet),
 * and within a bound even if the kind's own error never comes.
 *
 * @internal
 */
import type { Handlers, WorkerHandle } from "./workerKind.ts"

/**
 * How long a failed start waits for the error that says why (Node emits a
 * failed spawn's 'error' on the next tick): a start that failed without a
 * word is still reported.
 */
const ERROR_WAIT_MS = 1_000

/**
 * The handle of a worker that did not start. `why` is the error, known now,
 * or a way to hear of it (a failed child process's 'error' event).
 */
export const handle = (handlers: Handlers, why: Error | ((report: (error: Error) => void) => void)): WorkerHandle => {
  let reported = false
  const report = (spawnError: Error) => {
    if (reported) return
    reported = true
    handlers.onEnd({
      exitCode: null,
      signal: null,
      detail: `could not be spawned: ${spawnError.message}`,
      killedFromOutside: false,
      lostChannel: undefined,
      spawnError,
      stderr: ""
    })
  }
  if (why instanceof Error) {
    setImmediate(() => report(why))
  } else {
    why((error) => report(toError(error)))
    setTimeout(() => report(new Error("it did not start")), ERROR_WAIT_MS).unref()
  }
  return {
    label: "not started",
    pid: undefined,
    send: () => {},
    accepting: () => false,
    kill: () => {},
    receiving: () => false
  }
}

export const toError = (u: unknown): Error => (u instanceof Error ? u : new Error(String(u)))
