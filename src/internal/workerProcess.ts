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
import type * as Stream from "node:stream"
import * as NodeUrl from "node:url"
import * as Channel from "./channel.ts"
import * as OutputLines from "./outputLines.ts"
import { MAX_RSS_ENV, SERIALIZATION_ENV, WORKER_ENV } from "./protocol.ts"
import { makeReaper } from "./reaper.ts"
import type { Handlers, SpawnOptions, WorkerHandle, WorkerKind } from "./workerKind.ts"

/**
 * How long the parent waits for a worker's pipes to close after its process
 * has exited. Messages still buffered arrive before `'close'`, so `'close'` is
 * when a worker is really gone; but a grandchild that inherited the worker's
 * pipes could hold them open for ever, so the wait is bounded.
 */
const CLOSE_AFTER_EXIT_MS = 1_000

/** What the parent keeps of a worker's stderr (its last bytes), for a worker that dies while starting. */
const STDERR_TAIL_CHARS = 4_096

const entryPath = NodeUrl.fileURLToPath(
  new URL(import.meta.url.endsWith(".ts") ? "./workerMain.ts" : "./workerMain.js", import.meta.url)
)

/** The process kind: each pool has its own, with one orphan guard (`reaper.ts`) for its workers. */
export const kind = (): WorkerKind => {
  const reaper = makeReaper()
  return {
    spawn: (options, handlers) => {
      const handle = spawn(options, {
        ...handlers,
        onGone: (exitCode, signal, spawnError) => {
          if (handle.pid !== -1) reaper.remove(handle.pid)
          handlers.onGone(exitCode, signal, spawnError)
        }
      })
      if (handle.pid !== -1) reaper.add(handle.pid)
      return handle
    },
    close: reaper.close
  }
}

const spawn = (options: SpawnOptions, handlers: Handlers): WorkerHandle => {
  const child = ChildProcess.spawn(process.execPath, [...options.execArgv, entryPath], {
    env: {
      ...process.env,
      ...options.env,
      [WORKER_ENV]: String(options.id),
      [SERIALIZATION_ENV]: options.serialization,
      ...(options.maxRss !== undefined ? { [MAX_RSS_ENV]: String(options.maxRss) } : {})
    },
    // stderr goes through the parent so that the last lines of a worker that
    // dies while starting can be reported; it is forwarded as it comes.
    // fds 3 and 4 are the pool's channel (see channel.ts)
    stdio: ["inherit", options.stdio === "log" ? "pipe" : "inherit", "pipe", "pipe", "pipe"]
  })
  const toWorker = child.stdio[Channel.TO_WORKER_FD] as Stream.Duplex
  const fromWorker = child.stdio[Channel.FROM_WORKER_FD] as Stream.Duplex
  // a write to a worker that just died fails with EPIPE; 'close' reports it
  toWorker.on("error", () => {})
  fromWorker.on("error", () => {})
  const encode = Channel.encoder(options.serialization)
  const decoder = Channel.decoder(options.serialization, {
    onMessage: handlers.onMessage,
    onForeign: handlers.onForeign
  })
  let broken = false
  fromWorker.on("data", (chunk: Buffer) => {
    if (broken) return
    try {
      decoder.push(chunk)
    } catch (error) {
      if (!(error instanceof Channel.ChannelBroken)) throw error
      broken = true
      handlers.onBroken(error.message)
    }
  })
  let stderrTail = ""
  const stderrLines =
    options.stdio === "log" ? OutputLines.make((line) => handlers.onOutput("stderr", line)) : undefined
  child.stderr!.on("data", (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString("utf8")).slice(-STDERR_TAIL_CHARS)
    if (stderrLines === undefined) process.stderr.write(chunk)
    else stderrLines.push(chunk)
  })
  if (options.stdio === "log") {
    const stdoutLines = OutputLines.make((line) => handlers.onOutput("stdout", line))
    child.stdout!.on("data", (chunk: Buffer) => stdoutLines.push(chunk))
    child.stdout!.on("end", () => stdoutLines.end())
    child.stderr!.on("end", () => stderrLines!.end())
  }
  let gone = false
  let closeTimer: NodeJS.Timeout | undefined
  const done = (exitCode: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
    if (gone) return
    gone = true
    if (closeTimer !== undefined) clearTimeout(closeTimer)
    handlers.onGone(exitCode, signal, spawnError)
  }
  child.on("close", (code, signal) => done(code, signal))
  child.on("exit", (code, signal) => {
    // When the timer fires the parent may have been busy: the last bytes of the
    // channel can be waiting in the kernel, and timers run before I/O in
    // Node's loop. One more turn (setImmediate runs after the poll phase)
    // reads them first.
    closeTimer = setTimeout(() => setImmediate(() => done(code, signal)), CLOSE_AFTER_EXIT_MS)
  })
  child.on("error", (error) => {
    // a failed spawn has no pid and no other event; later errors (a failed
    // kill) are followed by 'close'
    if (child.pid === undefined) done(null, null, error)
  })
  return {
    pid: child.pid ?? -1,
    send: (messages) => {
      if (!gone && toWorker.writable) toWorker.write(encode(messages))
    },
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
    },
    stderrTail: () => stderrTail,
    receiving: decoder.partial
  }
}
