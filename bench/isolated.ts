/**
 * Running a benchmark program in a process group of its own, the way every
 * cell of the harnesses runs (bench/bench.ts, bench/real.ts): a peer that hangs
 * is killed with everything it started once its time limit is over, and after
 * the program has exited the group is checked for processes left behind (a
 * pool that closed properly has waited for its workers, so anything alive then
 * is a leak). Every group started here is remembered, for a last check at the
 * end of a run ({@link stragglers}).
 *
 * A program answers with one line on stdout that starts with {@link RESULT_MARK}
 * and holds JSON (its workers may print on stdout too).
 */
import * as NodeChildProcess from "node:child_process"
import { RESULT_MARK } from "./resultMark.ts"

export { RESULT_MARK }

/** How long a group may take to settle after its leader closed before what is left counts as left behind. */
const SETTLE_MS = 300
/** How long a program's output may stay open after its exit (its last bytes in flight) before the group is checked. */
const EXIT_TO_CLOSE_MS = 2_000

/** Every group started by this process. */
const groups: Array<number> = []

/**
 * Live processes of a process group, but its leader (the program, which has
 * exited): what a program left behind. Zombies are dead already (an exited
 * reaper `sh` waits a moment to be reaped by init) and do not count.
 */
export const groupMembers = (pgid: number): Array<string> => {
  const r = NodeChildProcess.spawnSync("ps", ["-eo", "pid=,pgid=,stat=,args="], { encoding: "utf8" })
  return (r.stdout ?? "")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => {
      const [pid, group, stat] = line.split(/\s+/)
      return Number(group) === pgid && Number(pid) !== pgid && !stat?.startsWith("Z")
    })
}

export const killMembers = (members: ReadonlyArray<string>) => {
  for (const line of members) {
    try {
      process.kill(Number(line.split(/\s+/)[0]), "SIGKILL")
    } catch {
      // gone meanwhile
    }
  }
}

const killGroup = (pgid: number) => {
  try {
    process.kill(-pgid, "SIGKILL")
  } catch {
    // gone meanwhile
  }
}

/** How a grouped program ended. */
export interface Ended {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  /** from just before `spawn` to the program's 'exit' event: the whole process, as a shell would wait for it */
  readonly exitMs: number
  /** from just before `spawn` to 'close' (its output streams closed too) */
  readonly closeMs: number
  /** killed at its time limit */
  readonly timedOut: boolean
  /** what was left alive in its group after it closed (and has been killed since) */
  readonly leftovers: ReadonlyArray<string>
}

/** A program running in a process group of its own. */
export interface Grouped {
  readonly pid: number
  /** everything it wrote on stdout so far */
  readonly stdout: () => string
  /** the last few KB it wrote on stderr */
  readonly stderr: () => string
  /**
   * Resolves with the first match of `pattern` in its stdout or stderr; rejects
   * after `ms`, or when the program ends first.
   */
  readonly waitFor: (pattern: RegExp, ms: number) => Promise<RegExpMatchArray>
  /** Sends `signal` to the program (not to its group). */
  readonly signal: (signal: NodeJS.Signals) => void
  /** Kills the whole group with SIGKILL. */
  readonly kill: () => void
  /** Resolves once it has closed and its group has been checked (and cleared) of leftovers. */
  readonly ended: Promise<Ended>
}

/** Keeps at most this much of a program's stderr: enough for the end of a stack. */
const STDERR_KEEP = 4_000

/**
 * Starts `command` in a process group of its own; the whole group is killed
 * with SIGKILL at `timeoutMs`.
 */
export const spawnGrouped = (
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly timeoutMs: number; readonly env?: NodeJS.ProcessEnv }
): Grouped => {
  const start = performance.now()
  const child = NodeChildProcess.spawn(command, args, {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    ...(options.env !== undefined ? { env: options.env } : {})
  })
  const pgid = child.pid!
  groups.push(pgid)
  let stdout = ""
  let stderr = ""
  const watchers = new Set<() => void>()
  const notify = () => {
    for (const w of watchers) w()
  }
  child.stdout!.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8")
    notify()
  })
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-STDERR_KEEP)
    notify()
  })
  child.on("error", (error) => {
    stderr += String(error)
  })
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    killGroup(pgid)
  }, options.timeoutMs)
  let exitMs = Number.NaN
  let closed = false
  // a process left behind that holds the program's stdout or stderr would keep 'close' from firing until the
  // time limit: shortly after the program's exit, what is still in its group is a leftover, and is killed
  let heldOpen: Array<string> = []
  let exitTimer: NodeJS.Timeout | undefined
  child.on("exit", () => {
    exitMs = performance.now() - start
    exitTimer = setTimeout(() => {
      heldOpen = groupMembers(pgid)
      killMembers(heldOpen)
    }, EXIT_TO_CLOSE_MS)
  })
  const ended = new Promise<Ended>((resolve) => {
    child.on("close", async (code, signal) => {
      clearTimeout(timer)
      clearTimeout(exitTimer)
      closed = true
      notify()
      const closeMs = performance.now() - start
      if (Number.isNaN(exitMs)) exitMs = closeMs
      await new Promise((r) => setTimeout(r, SETTLE_MS))
      const left = groupMembers(pgid)
      killMembers(left)
      resolve({ code, signal, exitMs, closeMs, timedOut, leftovers: [...heldOpen, ...left] })
    })
  })
  const waitFor = (pattern: RegExp, ms: number) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(stdout) ?? pattern.exec(stderr)
        if (match !== null) done(() => resolve(match))
        else if (closed) done(() => reject(new Error(`ended before printing ${pattern}: ${stderr.trim().slice(-500)}`)))
      }
      const timer = setTimeout(() => done(() => reject(new Error(`no ${pattern} within ${ms} ms`))), ms)
      const done = (settle: () => void) => {
        clearTimeout(timer)
        watchers.delete(check)
        settle()
      }
      watchers.add(check)
      check()
    })
  return {
    pid: pgid,
    stdout: () => stdout,
    stderr: () => stderr,
    waitFor,
    signal: (signal) => {
      try {
        child.kill(signal)
      } catch {
        // gone meanwhile
      }
    },
    kill: () => killGroup(pgid),
    ended
  }
}

/** What a program that answers one result line came to. */
export interface Outcome<A> {
  readonly status: "ok" | "failed" | "timeout"
  readonly result?: A
  readonly error?: string
  /** from spawn to close */
  readonly seconds: number
  /** from spawn to the 'exit' event */
  readonly exitMs: number
  readonly leftovers: ReadonlyArray<string>
}

/** Runs a program to its end in a group of its own and reads its {@link RESULT_MARK} line. */
export const runGrouped = async <A>(
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly timeoutMs: number; readonly env?: NodeJS.ProcessEnv }
): Promise<Outcome<A>> => {
  const grouped = spawnGrouped(command, args, options)
  const end = await grouped.ended
  const seconds = end.closeMs / 1000
  const line = grouped
    .stdout()
    .split("\n")
    .find((l) => l.startsWith(RESULT_MARK))
  const common = { seconds, exitMs: end.exitMs, leftovers: end.leftovers }
  if (end.timedOut) return { ...common, status: "timeout", error: `over ${options.timeoutMs / 1000} s` }
  if (end.code !== 0 || line === undefined) {
    const lastLines = grouped.stderr().trim().split("\n").slice(-6).join("\n")
    return { ...common, status: "failed", error: `exit ${end.code ?? end.signal}: ${lastLines}` }
  }
  return { ...common, status: "ok", result: JSON.parse(line.slice(RESULT_MARK.length)) as A }
}

/** Kills every group started here (a harness interrupted by Ctrl-C: its programs are in groups of their own, which the terminal's signal does not reach). */
export const killAll = () => {
  for (const pgid of groups) killGroup(pgid)
}

/** Members of every group started here that are still alive, killed now: the last check of a run. */
export const stragglers = async (): Promise<Array<string>> => {
  await new Promise((r) => setTimeout(r, 500))
  const left = groups.flatMap(groupMembers)
  killMembers(left)
  return left
}
