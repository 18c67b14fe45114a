/**
 * A worker idle this long compacts its heap, once until its next job.
 * Importing `effect` and running a burst of tasks grow V8's young generation
 * to tens of MB, which V8 keeps while the process idles; a last-resort GC
 * gives it back (measured: an idle worker's RSS from ~115 MB to ~80 MB). A
 * worker fed without pause never idles this long, so it pays nothing; the GC
 * itself takes a few ms of an otherwise idle process.
 *
 * @internal
 */
import * as NodeV8 from "node:v8"
import * as NodeVm from "node:vm"

const COMPACT_AFTER_IDLE_MS = 500

/** V8's `gc`, reached without `--expose-gc` on the command line (the flag holds for new contexts). */
const findGc = (): ((options: object) => void) | undefined => {
  try {
    NodeV8.setFlagsFromString("--expose-gc")
    return NodeVm.runInNewContext("gc") as (options: object) => void
  } catch {
    return undefined
  }
}

export interface Compaction {
  readonly gc: ((options: object) => void) | undefined
  timer: NodeJS.Timeout | undefined
  done: boolean
}

/** `enabled`: the transport allows it (V8's flags are the process's: a thread must not set them). */
export const make = (enabled: boolean): Compaction => ({
  gc: enabled ? findGc() : undefined,
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
