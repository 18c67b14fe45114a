/**
 * Where an error that crossed from a worker came from, said in its stack: a
 * line in the form of a frame that names the worker and the task. Defects
 * (`codec.ts`), typed errors (`outcomes.ts`) and a cluster runner's mark
 * (`cluster/runner.ts`) all put their line here, the same way.
 *
 * The line goes right after the stack's first line (`name: message`), not at
 * its end: `Cause.pretty` (effect 4.1, `cleanErrorStack`) keeps a stack's
 * frames only up to the first frame of Effect's own fiber loop
 * (`~effect/Effect/evaluate`, `Generator.next`), and an error thrown inside
 * `Effect.sync` or `Effect.gen` has one among its first frames: a line at the
 * end was cut off, so a thrown `Error` said nothing of its worker or task.
 *
 * @internal
 */

/**
 * The line that says which worker ran which task (`detail`, when given, ends
 * it: a typed error's fields). `worker` is its name, `worker 3 (pid 4242)` or
 * `worker 3 (thread 7)` (see `Slots.make`).
 */
export const workerFrame = (worker: string, task: string, detail?: string): string =>
  `    at effect-process-pool ${worker}, task "${task}"${detail === undefined ? "" : `, ${detail}`}`

/**
 * `stack` with `frame` as its first frame: after its first line when that is
 * the error's `name: message` (or `name` alone, for an empty message), else
 * before its first frame, else at its end. A missing stack becomes the first
 * line and the frame.
 */
export const withFrame = (stack: string | undefined, name: string, message: string, frame: string): string => {
  const head = message === "" ? name : `${name}: ${message}`
  if (stack === undefined) return `${head}\n${frame}`
  if (stack.startsWith(head) && (stack.length === head.length || stack[head.length] === "\n")) {
    return `${head}\n${frame}${stack.slice(head.length)}`
  }
  const firstFrame = stack.indexOf("\n    at ")
  return firstFrame === -1 ? `${stack}\n${frame}` : `${stack.slice(0, firstFrame)}\n${frame}${stack.slice(firstFrame)}`
}
