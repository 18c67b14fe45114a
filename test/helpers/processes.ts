/**
 * Looking at processes from a test: whether a pid is alive, waiting (with a
 * bound) for one to be gone, and the pids of a process's children.
 */
import * as NodeChildProcess from "node:child_process"
import { Effect } from "effect"

export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  // a zombie still answers signal 0: look at its state
  try {
    const stat = NodeChildProcess.execFileSync("ps", ["-o", "stat=", "-p", String(pid)], { encoding: "utf8" }).trim()
    return stat !== "" && !stat.startsWith("Z")
  } catch {
    return false
  }
}

/** Succeeds with the milliseconds it took once none of `pids` is alive; fails after `withinMs`. */
export const waitGone = (pids: ReadonlyArray<number>, withinMs: number): Effect.Effect<number, Error> =>
  Effect.gen(function* () {
    const start = Date.now()
    while (pids.some(isAlive)) {
      if (Date.now() - start > withinMs) {
        return yield* Effect.fail(new Error(`still alive after ${withinMs} ms: ${pids.filter(isAlive).join(", ")}`))
      }
      yield* Effect.sleep(20)
    }
    return Date.now() - start
  })

/** The pids of the live worker processes (children running the pool's worker entry) of `pid`. */
export const childrenOf = (pid: number): Array<number> => {
  try {
    return NodeChildProcess.execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(pid)], { encoding: "utf8" })
      .split("\n")
      .filter((line) => line.includes("workerMain"))
      .map((line) => Number(line.trim().split(/\s+/)[0]))
      .filter((n) => n > 0 && isAlive(n))
  } catch {
    return []
  }
}

/** The live processes of a process group (none of its members outlived it). */
export const processesInGroup = (group: number): Array<number> => {
  try {
    return NodeChildProcess.execFileSync("pgrep", ["-g", String(group)], { encoding: "utf8" })
      .split("\n")
      .map(Number)
      .filter((pid) => pid > 0 && isAlive(pid))
  } catch {
    return [] // pgrep exits 1 when nothing matches
  }
}
