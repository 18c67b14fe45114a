/**
 * A worker idle this long compacts its heap, once until its next job.
 * Importing `effect` and running a burst of tasks grow V8's young generation
 * to tens of MB, which V8 keeps while the process idles; a last-resort GC
 * gives it back (measured: an idle worker's RSS from ~115 MB to ~80 MB; a
 * thread that imported `effect`, `Schema` and `Stream`, 48 MB to 35 MB of
 * the process's RSS). A worker fed without pause never idles this long, so it
 * pays nothing; the GC itself takes a few ms of an otherwise idle worker.
 *
 * @internal
 */
import * as NodeV8 from "node:v8"
import * as NodeVm from "node:vm"

const COMPACT_AFTER_IDLE_MS = 500

/**
 * V8's `gc`, reached without `--expose-gc` on the command line: the flag
 * holds for contexts made while it is set, so it is set for the one context
 * that hands over `gc`, then cleared. V8's flags are the process's: in a
 * thread, a context another thread makes in that instant gets a `gc` of its
 * own too, and nothing else changes (the task's own contexts, made later,
 * get none, as in a process started without the flag). With the flag given
 * (`--expose-gc`), its own `gc` is used and the flag left alone.
 */
const findGc = (): ((options: object) => void) | undefined => {
  const exposed = (globalThis as { gc?: unknown }).gc
  if (typeof exposed === "function") return exposed as (options: object) => void
  try {
    NodeV8.setFlagsFromString("--expose-gc")
    try {
      return NodeVm.runInNewContext("gc") as (options: object) => void
    } finally {
      NodeV8.setFlagsFromString("--no-expose-gc")
    }
  } catch {
    return undefined
  }
}

export interface Compaction {
  readonly gc: ((options: object) => void) | undefined
  timer: NodeJS.Timeout | undefined
  done: boolean
}

export const make = (): Compaction => ({
  gc: findGc(),
  timer: undefined,
  done: false
})

/** The worker is idle: compacts after a while, if `stillIdle` then. */
export const arm = (compaction: Compaction, stillIdle: () => boolean): void => {
  if (compaction.gc === undefined || compaction.done || compaction.timer !== undefined) return
  compaction.timer = setTimeout(() => {
    compaction.timer = undefined
    if (!stillIdle()) return
    compaction.done = true
    compaction.gc!({ type: "major", execution: "sync", flavor: "last-resort" })
  }, COMPACT_AFTER_IDLE_MS)
  compaction.timer.unref()
}

/** A job starts: no compaction until the worker idles again. */
export const cancel = (compaction: Compaction): void => {
  compaction.done = false
  if (compaction.timer === undefined) return
  clearTimeout(compaction.timer)
  compaction.timer = undefined
}
