/**
 * Looking at processes from a test: whether a pid is alive, waiting (with a
 * bound) for one to be gone, and the pids of a process's children.
 */
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs"
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

/** The pid of the process whose pool started worker `pid` (its `EFFECT_PROCESS_POOL_PARENT`), if it is one. */
const poolParentOf = (pid: number): number | undefined => {
  try {
    const environ = NodeFs.readFileSync(`/proc/${pid}/environ`, "latin1")
    const match = /(?:^|\0)EFFECT_PROCESS_POOL_PARENT=(\d+)/.exec(environ)
    return match === null ? undefined : Number(match[1])
  } catch {
    return undefined // gone, or not ours to read
  }
}

/**
 * The live processes a program left: those of its process group, and, since
 * each pool worker leads a group of its own, every worker whose pool belonged
 * to one of them (`EFFECT_PROCESS_POOL_PARENT`) with the processes of its
 * group (what its tasks started), transitively (pools in workers).
 */
export const processesInGroup = (group: number): Array<number> => {
  let rows: Array<readonly [pid: number, pgid: number]>
  try {
    rows = NodeChildProcess.execFileSync("ps", ["-e", "-o", "pid=,pgid="], { encoding: "utf8" })
      .split("\n")
      .map((line) => line.trim().split(/\s+/).map(Number) as [number, number])
      .filter(([pid, pgid]) => pid > 0 && pgid > 0 && pid !== process.pid)
  } catch {
    return []
  }
  const owners = new Set([group])
  const found = new Set<number>()
  const parents = new Map<number, number | undefined>()
  const parentOf = (pid: number) => {
    if (!parents.has(pid)) parents.set(pid, poolParentOf(pid))
    return parents.get(pid)
  }
  for (let grew = true; grew; ) {
    grew = false
    for (const [pid, pgid] of rows) {
      if (found.has(pid)) continue
      const parent = owners.has(pgid) ? pgid : parentOf(pid)
      if (parent === undefined || !owners.has(parent)) continue
      found.add(pid)
      owners.add(pid)
      grew = true
    }
  }
  return [...found].filter(isAlive)
}
