/**
 * Worker processes: the kind of worker the pool uses today (see
 * `workerKind.ts` for what a kind must do). One worker process, seen from the
 * parent: spawn, send, kill, and one "gone" notification. Written on
 * `node:child_process` directly because the pool must kill one busy worker at
 * once and must see exactly when its channel is drained, which Effect's
 * worker abstractions do not expose. The channel is the pool's own pair of
 * pipes, not Node's IPC (see `channel.ts`); the child entry is `workerMain.ts`.
 *
 * @internal
 */
import * as ChildProcess from "node:child_process"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import type * as Stream from "node:stream"
import * as NodeUrl from "node:url"
import * as Channel from "./channel.ts"
import type { Wire } from "./codec.ts"
import type { EngineOptions } from "./engineState.ts"
import * as FailedStart from "./failedStart.ts"
import * as P from "./protocol.ts"
import { COMPILE_CACHE_ENV, MAX_RSS_ENV, PARENT_ENV, SERIALIZATION_ENV, WIRE_ENV, WORKER_ENV } from "./protocol.ts"
import { makeReaper } from "./reaper.ts"
import * as Tiering from "./tiering.ts"
import { deliverFrames, type Handlers, type WorkerHandle, type WorkerKind } from "./workerKind.ts"
import * as WorkerOutput from "./workerOutput.ts"

/**
 * How long the parent waits for a worker's pipes to close after its process
 * has exited. Messages still buffered arrive before `'close'`, so `'close'` is
 * when a worker is really gone; but a grandchild that inherited the worker's
 * pipes could hold them open for ever, so the wait is bounded.
 */
const CLOSE_AFTER_EXIT_MS = 1_000

const entryPath = NodeUrl.fileURLToPath(
  new URL(import.meta.url.endsWith(".ts") ? "./workerMain.ts" : "./workerMain.js", import.meta.url)
)

/** What a process kind is built with: the pool's options that concern processes. */
export interface Config {
  /** Node options of the workers; `undefined`: the parent's, less its inspector flags (see `inheritedExecArgv`) */
  readonly execArgv: ReadonlyArray<string> | undefined
  /** added to the parent's environment */
  readonly env: Readonly<Record<string, string>>
  readonly serialization: Channel.Serialization
  /** the form of values on the channel (see `codec.ts`) */
  readonly wire: Wire
  /** bytes of RSS after a job above which a worker asks to be replaced */
  readonly maxRss: number | undefined
  readonly stdio: "inherit" | "log"
}

/** The process kind's configuration, from the pool's options. */
export const configOf = (options: EngineOptions): Config => ({
  execArgv: options.execArgv,
  env: options.env,
  serialization: options.serialization,
  wire: options.wire,
  maxRss: options.maxWorkerMemory,
  stdio: options.stdio
})

/**
 * The subdirectory of the compile cache where workers that hold V8's tiers
 * while they load keep theirs: V8 refuses code compiled under other flags,
 * and the two would overwrite each other's entries (see tiering.ts).
 */
export const HELD_CACHE_DIR = "effect-process-pool-held-tiers"

/**
 * The process kind: each pool has its own, with one orphan guard
 * (`reaper.ts`) for its workers.
 *
 * Each worker leads a process group of its own (`detached`), and the group
 * is killed when the worker is gone: the processes a task started and did not
 * detach end with their worker, whether it exits, crashes or is killed, and
 * the orphan guard kills whole groups when the parent dies. A task's child
 * that starts a session or group of its own (`detached: true`) is its own
 * business, as in any process.
 */
export const kind = (config: Config): WorkerKind => {
  const reaper = makeReaper()
  const argv = [...(config.execArgv ?? inheritedExecArgv()), entryPath]
  const baseEnv = (): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...config.env }
    // NODE_OPTIONS inherited with an inspector flag would hold every worker
    // for a debugger; one the pool's `env` sets is the user's choice
    if (config.env.NODE_OPTIONS === undefined && env.NODE_OPTIONS !== undefined) {
      env.NODE_OPTIONS = withoutInspector(env.NODE_OPTIONS.split(/\s+/)).join(" ")
    }
    if (env.NODE_DISABLE_COMPILE_CACHE === undefined) {
      // the user's directory, or Node's own default, as `enableCompileCache()` in the entry would take (see COMPILE_CACHE_ENV)
      const user = env.NODE_COMPILE_CACHE
      // an empty variable names no directory (Node leaves the cache off): never a path relative to the worker's cwd
      const dir = user || NodePath.join(NodeOs.tmpdir(), "node-compile-cache")
      env.NODE_COMPILE_CACHE = Tiering.holds(argv.slice(0, -1), env.NODE_OPTIONS)
        ? NodePath.join(dir, HELD_CACHE_DIR)
        : dir
      env[COMPILE_CACHE_ENV] = user ?? ""
    }
    env[SERIALIZATION_ENV] = config.serialization
    env[WIRE_ENV] = config.wire
    env[PARENT_ENV] = String(process.pid)
    if (config.maxRss !== undefined) env[MAX_RSS_ENV] = String(config.maxRss)
    return env
  }
  return {
    name: "process",
    spawn: (id, handlers) => {
      let pid: number | undefined
      const handle = spawn(argv, { ...baseEnv(), [WORKER_ENV]: String(id) }, config, {
        ...handlers,
        onEnd: (end) => {
          if (pid !== undefined) {
            reaper.remove(pid)
            killGroup(pid)
          }
          handlers.onEnd(end)
        }
      })
      pid = handle.pid
      if (pid !== undefined) reaper.add(pid)
      return handle
    },
    close: reaper.close,
    startHint: () => startHint(argv, baseEnv().NODE_OPTIONS)
  }
}

/** Flags that make a worker load a module before the pool's entry (a loader, a preload). */
const PRELOAD_FLAG = /^(--import|--require|-r|--loader|--experimental-loader)(=|$)/
/** ...of them, those whose module is the next argument */
const PRELOAD_FLAG_ALONE = /^(--import|--require|-r|--loader|--experimental-loader)$/

const startHint = (argv: ReadonlyArray<string>, nodeOptions: string | undefined): string | undefined => {
  const options = [...argv.slice(0, -1), ...(nodeOptions ?? "").split(/\s+/).filter((o) => o !== "")]
  const inspector = inspectorFlag(options)
  if (inspector !== undefined) return `the workers' Node options include ${inspector}, which waits for a debugger`
  const preloads = options.filter((o, i) => PRELOAD_FLAG.test(o) || PRELOAD_FLAG_ALONE.test(options[i - 1] ?? ""))
  if (preloads.length > 0) return `a module the workers preload may not finish loading: ${preloads.join(" ")}`
  return undefined
}

/**
 * Node's inspector flags: a worker that inherited `--inspect-brk` would wait
 * for a debugger for ever, and one that inherited `--inspect` would fight its
 * parent for the port. Inherited ones are dropped (as Node's own `cluster`
 * gives each worker a port of its own or none); `execArgv` given to the pool
 * is passed as it is, and a worker held by it fails its start after a bound.
 */
const INSPECTOR_FLAG = /^--(inspect|inspect-brk|inspect-wait|inspect-port|debug-port)(=|$)/

/** Flags that take their value as the next argument. */
const INSPECTOR_FLAG_WITH_VALUE = /^--(inspect-port|debug-port)$/

const withoutInspector = (argv: ReadonlyArray<string>): Array<string> => {
  const kept: Array<string> = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (!INSPECTOR_FLAG.test(arg)) kept.push(arg)
    else if (INSPECTOR_FLAG_WITH_VALUE.test(arg)) i++
  }
  return kept
}

/** The workers' default `execArgv`: the parent's, without its inspector flags. */
export const inheritedExecArgv = (): Array<string> => withoutInspector(process.execArgv)

/** The inspector flag in `execArgv` that would hold a worker's start, if any: for the start error. */
export const inspectorFlag = (execArgv: ReadonlyArray<string>): string | undefined =>
  execArgv.find((arg) => INSPECTOR_FLAG.test(arg))

/** Kills what is left of a worker's process group; nothing if the group is empty. */
const killGroup = (pid: number): void => {
  if (process.platform === "win32") return
  try {
    process.kill(-pid, "SIGKILL")
  } catch {
    // ESRCH: no process of the group is left
  }
}

/**
 * When the parent no longer hears from a worker's channel (its end of fd 4
 * closed) or can no longer write to it (EPIPE on fd 3), the process usually
 * is dying and its exit follows within moments. If it is still alive after
 * this long, a task closed or replaced the channel: the worker can no longer
 * take jobs or answer, and is reported broken (the engine kills it).
 */
const CHANNEL_LOSS_GRACE_MS = 500

/**
 * A worker that owes the parent an answer (something was written to it since
 * it last wrote) and has been silent this long is sent a `PING`: a frame of
 * its own number, so that a worker that lost frames to a task reading its
 * channel finds the gap and exits (see `P.Frame`). A busy worker reads the
 * pings when it is free; they cost a few bytes a second.
 */
const PING_AFTER_MS = 1_000

const spawn = (
  argv: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv,
  config: Config,
  handlers: Handlers
): WorkerHandle => {
  let child: ChildProcess.ChildProcess
  try {
    child = ChildProcess.spawn(process.execPath, argv, {
      env,
      // a process group of its own: see `kind`
      detached: process.platform !== "win32",
      // stderr goes through the parent so that the last lines of a worker that
      // dies while starting can be reported; it is forwarded as it comes.
      // fds 3 and 4 are the pool's channel (see channel.ts)
      stdio: ["inherit", config.stdio === "log" ? "pipe" : "inherit", "pipe", "pipe", "pipe"]
    })
  } catch (error) {
    // E2BIG (the environment is too large), an argument Node refuses...: no process
    return FailedStart.handle(handlers, FailedStart.toError(error))
  }
  if (child.pid === undefined) {
    // EMFILE, EAGAIN...: the process did not start; its 'error' event follows, and no other
    return FailedStart.handle(handlers, (report) => child.on("error", report))
  }
  const pid = child.pid
  const toWorker = child.stdio[Channel.TO_WORKER_FD] as Stream.Duplex
  const fromWorker = child.stdio[Channel.FROM_WORKER_FD] as Stream.Duplex
  const alive = () => child.exitCode === null && child.signalCode === null
  let broken = false
  const brokenUnlessDying = (reason: string) => {
    if (broken) return
    setTimeout(() => {
      if (broken || !alive()) return
      broken = true
      handlers.onBroken(reason)
    }, CHANNEL_LOSS_GRACE_MS).unref()
  }
  // fd 3 is a socket: its end closing in the worker ends its reading side here.
  // Nothing written from then on reaches the worker: it takes no more jobs.
  let unwritable = false
  const fd3Closed = () => {
    unwritable = true
    brokenUnlessDying("its end of the channel the parent writes to (fd 3) was closed")
  }
  toWorker.on("error", fd3Closed)
  toWorker.on("end", fd3Closed)
  toWorker.on("close", fd3Closed)
  fromWorker.on("error", () => {})
  fromWorker.on("end", () => brokenUnlessDying("its end of the channel it answers on (fd 4) was closed"))
  const encode = Channel.encoder(config.serialization)
  // frames the worker's runtime writes open with it; what a task writes to fd 4 does not (see P.FirstFrame)
  const key = Channel.newKey()
  // the frames of one read, handed on together once it is decoded (`deliverFrames`)
  const read: Array<unknown> = []
  const decoder = Channel.decoder(config.serialization, {
    onMessage: (frame) => {
      if (Array.isArray(frame) && frame.length === 2 && frame[0] === key) read.push(frame[1])
      else handlers.onForeign("a frame that does not open with the worker's key: not written by the pool's runtime")
    },
    onForeign: (bytes) => handlers.onForeign(`${bytes} bytes that are not a message of the pool's`)
  })
  fromWorker.on("data", (chunk: Buffer) => {
    lastHeardAt = performance.now()
    if (broken) return
    let lost: string | undefined
    try {
      decoder.push(chunk)
    } catch (error) {
      if (!(error instanceof Channel.ChannelBroken)) throw error
      broken = true
      lost = error.message
    } finally {
      // what arrived whole before a break is the worker's, and is taken first
      if (read.length > 0) deliverFrames(read.splice(0), handlers.onFrame)
    }
    if (lost !== undefined) handlers.onBroken(lost)
  })
  const output = WorkerOutput.attach(child.stdout, child.stderr, config.stdio, handlers.onOutput)
  // the frames written, numbered (see P.Frame), and when the worker was last heard from
  let seq = 1
  // frame 0 gives the worker its key, before any job (see P.FirstFrame)
  toWorker.write(encode([0, [], key] satisfies P.FirstFrame))
  let lastSentAt = 0
  let lastHeardAt = performance.now()
  let lastPingAt = 0
  const write = (messages: ReadonlyArray<P.ToWorker>) => {
    if (gone || !toWorker.writable) return
    const frame = encode([seq, messages] satisfies P.Frame)
    seq++
    lastSentAt = performance.now()
    toWorker.write(frame)
  }
  const pinger = setInterval(() => {
    const now = performance.now()
    if (lastSentAt > lastHeardAt && now - lastHeardAt >= PING_AFTER_MS && now - lastPingAt >= PING_AFTER_MS) {
      lastPingAt = now
      write([[P.PING]])
    }
  }, PING_AFTER_MS).unref()
  let gone = false
  let closeTimer: NodeJS.Timeout | undefined
  let killed = false
  const done = (exitCode: number | null, signal: NodeJS.Signals | null) => {
    if (gone) return
    gone = true
    clearInterval(pinger)
    if (closeTimer !== undefined) clearTimeout(closeTimer)
    const lostChannel =
      exitCode === P.CHANNEL_LOST_EXIT_CODE
        ? "messages from the parent went missing: something in the worker reads its channel (fd 3)"
        : undefined
    handlers.onEnd({
      exitCode,
      signal,
      lostChannel,
      detail: signal !== null ? `was killed by ${signal}` : `exited with code ${exitCode}`,
      // SIGKILL or SIGTERM that the pool did not send: an operator, the OOM killer
      killedFromOutside: !killed && (signal === "SIGKILL" || signal === "SIGTERM"),
      spawnError: undefined,
      stderr: output.stderrTail()
    })
  }
  child.on("close", (code, signal) => done(code, signal))
  child.on("exit", (code, signal) => {
    // When the timer fires the parent may have been busy: the last bytes of the
    // channel can be waiting in the kernel, and timers run before I/O in
    // Node's loop. One more turn (setImmediate runs after the poll phase)
    // reads them first.
    closeTimer = setTimeout(() => setImmediate(() => done(code, signal)), CLOSE_AFTER_EXIT_MS)
  })
  // later errors (a failed kill) are followed by 'close'
  child.on("error", () => {})
  return {
    label: `pid ${pid}`,
    pid,
    send: write,
    accepting: () => !unwritable && !gone && toWorker.writable,
    kill: () => {
      if (!alive()) return
      killed = true
      child.kill("SIGKILL")
    },
    receiving: decoder.partial
  }
}
