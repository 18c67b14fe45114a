/**
 * V8's optimising tiers are held off while a worker starts, and let go when
 * its first job is about to run.
 *
 * Starting a worker runs a great deal of code exactly once: the modules of
 * `effect`, the worker's own, the task's module. V8 optimises what looks hot
 * in there (Maglev, TurboFan) on a background thread, work that is thrown
 * away, that competes with the other workers starting on a small machine, and
 * that pages the optimising compilers into every worker's RSS (about 8 MB, see
 * bench/RESULTS.md, workload 6a). Once jobs run, code that is hot is optimised
 * as usual.
 *
 * Nothing is changed when the worker's own command line or `NODE_OPTIONS`
 * name one of these tiers: the user's choice holds. The flags are V8's
 * `turbofan` and `maglev`, which its tiering reads each time it considers a
 * function, and which Node leaves settable after start (it runs V8 with
 * `--no-freeze-flags-after-init` for `v8.setFlagsFromString`); where setting
 * them throws, nothing is held, and `release` does nothing.
 *
 * V8's code cache records the flags its code was compiled under, and refuses
 * code compiled under others: what a worker compiles while the tiers are held
 * is refused by a thread, the parent or any other Node process, and theirs by
 * it. Sharing Node's compile cache, each side would throw the other's entries
 * away and write its own over them: measured, after a pool of processes had
 * run, 326 of a thread's 340 modules refused and compiled again (the 30-file
 * job of bench:real 406-450 ms instead of 316-331). Workers that hold the
 * tiers therefore keep their cache in a directory of their own
 * (`workerProcess.ts`, `HELD_CACHE_DIR`).
 *
 * @internal
 */
import * as NodeV8 from "node:v8"

const TIER_FLAGS = /--(no-)?(opt|turbofan|maglev|sparkplug|jitless)\b/

let held = false

/**
 * Whether a worker process started with these Node options holds the tiers
 * while it loads: unless the options name one of them. The parent asks too,
 * to give such workers a compile cache of their own (`workerProcess.ts`).
 */
export const holds = (execArgv: ReadonlyArray<string>, nodeOptions: string | undefined): boolean =>
  !TIER_FLAGS.test(`${execArgv.join(" ")} ${nodeOptions ?? ""}`)

/** Holds the optimising tiers off; call before the heavy imports. */
export const hold = (): void => {
  if (!holds(process.execArgv, process.env.NODE_OPTIONS)) return
  try {
    NodeV8.setFlagsFromString("--no-opt")
    NodeV8.setFlagsFromString("--no-maglev")
    held = true
  } catch {
    // a runtime without the flags: nothing to hold
  }
}

/** Lets the optimising tiers go again; idempotent. */
export const release = (): void => {
  if (!held) return
  held = false
  NodeV8.setFlagsFromString("--opt")
  NodeV8.setFlagsFromString("--maglev")
}
