/**
 * Worker threads: the second kind of worker (see `workerKind.ts` for what a
 * kind must do), for `workerType: "thread"`. One thread, seen from the
 * parent: spawn, send, kill (`Worker.terminate()`, which stops a thread even
 * in a synchronous loop), and one "gone" notification. The thread's entry is
 * `threadMain.ts`; it runs the same runtime as a worker process, on its own
 * transport (`worker/threadTransport.ts`).
 *
 * The channel is a `MessagePort` of the pool's own, handed to the thread in
 * its `workerData` and taken out of it before any task runs: a task reaches
 * `parentPort`, but nothing it posts there is read. What the thread posts
 * before it ends is in the port's queue when its 'exit' comes, and is read
 * then (`receiveMessageOnPort`), so an answer posted is an answer delivered,
 * whatever ends the thread next (measured: 20 of 20 posts of up to 64 MB
 * arrived before `process.exit`, a throw, an unhandled rejection).
 *
 * @internal
 */
import * as NodeUrl from "node:url"
import * as NodeWorkerThreads from "node:worker_threads"
import * as AnswerRing from "./answerRing.ts"
import type { EngineOptions } from "./engineState.ts"
import * as FailedStart from "./failedStart.ts"
import * as P from "./protocol.ts"
import { deliverFrames, type Handlers, type WorkerHandle, type WorkerKind } from "./workerKind.ts"
import * as WorkerOutput from "./workerOutput.ts"

/** What a thread kind is built with: the pool's options that concern threads. */
export interface Config {
  /** Node options of the threads (Node's per-thread ones); `undefined`: the parent's */
  readonly execArgv: ReadonlyArray<string> | undefined
  /** added to the parent's environment, in each thread's own copy of it */
  readonly env: Readonly<Record<string, string>>
  /** bytes of heap: the thread's old generation limit, and the mark above which it is replaced after a job */
  readonly maxMemory: number | undefined
  /** the form of values on the channel (see `codec.ts`) */
  readonly wire: "json" | "bytes"
  readonly stdio: "inherit" | "log"
}

/** The thread kind's configuration, from the pool's options. */
export const configOf = (options: EngineOptions): Config => ({
  execArgv: options.execArgv,
  env: options.env,
  maxMemory: options.maxWorkerMemory,
  wire: options.wire,
  stdio: options.stdio
})

const entry = new URL(import.meta.url.endsWith(".ts") ? "./threadMain.ts" : "./threadMain.js", import.meta.url)

/**
 * A thread's first code, before its entry: it turns Node's module compile
 * cache on, then imports the entry. Each thread is an isolate that loads its
 * modules again (`effect`, the runtime, the task's module); with the cache,
 * V8 takes their code from disk instead of compiling it, and a TypeScript
 * module's stripped form too, so that a thread does not load Node's
 * TypeScript stripper (amaro, a WebAssembly module of ~10 MB per isolate).
 * The cache belongs to the thread's own environment (measured: enabling it in
 * a thread leaves the main thread's off), as a process worker's belongs to its
 * process (`workerMain.ts`); it is the same directory (Node's default, or
 * NODE_COMPILE_CACHE), and NODE_DISABLE_COMPILE_CACHE turns it off. The
 * bootstrap is a module of plain JavaScript in a `data:` URL, so that it runs
 * before any module is stripped, from the sources as from `dist`; not `eval`
 * code, for which Node skips the thread's `--import` preloads (measured).
 */
const bootstrap = new URL(
  `data:text/javascript,${encodeURIComponent(
    `process.getBuiltinModule("node:module").enableCompileCache?.();await import(${JSON.stringify(entry.href)})`
  )}`
)

const MB = 1024 * 1024

/**
 * `maxWorkerMemory` on a thread is its heap's limit: V8 holds the thread's
 * old generation to it (`resourceLimits`), and a job that needs more fails
 * with `WorkerCrashed` (the thread is stopped, never the process). So that the
 * next job does not run out where this one ended close to the limit, a thread
 * whose used heap after a job is above this share of it is replaced, as a
 * process above its limit is.
 */
export const RECYCLE_ABOVE = 0.75

export const kind = (config: Config): WorkerKind => ({
  name: "thread",
  spawn: (id, handlers) => spawn(id, config, handlers),
  // threads die with the process: there is nothing to guard
  close: () => {}
})

const spawn = (id: number, config: Config, handlers: Handlers): WorkerHandle => {
  const { port1, port2 } = new NodeWorkerThreads.MessageChannel()
  const ring = AnswerRing.make()
  const data: P.ThreadData = {
    ring: AnswerRing.bufferOf(ring),
    id,
    port: port2,
    maxMemory: config.maxMemory === undefined ? undefined : Math.floor(config.maxMemory * RECYCLE_ABOVE),
    wire: config.wire
  }
  let worker: NodeWorkerThreads.Worker
  try {
    worker = new NodeWorkerThreads.Worker(bootstrap, {
      workerData: { [P.THREAD_DATA_KEY]: data },
      transferList: [port2],
      // a copy of its own: a task's changes to process.env stay in its thread
      env: { ...process.env, ...config.env, [P.WORKER_ENV]: String(id) },
      ...(config.execArgv !== undefined ? { execArgv: [...config.execArgv] } : {}),
      stdout: config.stdio === "log",
      stderr: true,
      ...(config.maxMemory !== undefined
        ? { resourceLimits: { maxOldGenerationSizeMb: Math.max(1, Math.ceil(config.maxMemory / MB)) } }
        : {}),
      name: `effect-process-pool worker ${id}`
    })
  } catch (error) {
    // an execArgv Node refuses for a thread, a thread that cannot be created
    port1.close()
    port2.close()
    return FailedStart.handle(handlers, FailedStart.toError(error))
  }
  const output = WorkerOutput.attach(worker.stdout, worker.stderr, config.stdio, handlers.onOutput)
  let gone = false
  let killed = false
  let error: unknown
  /** The ring's batches written before `limit` (a thread's position), in order. */
  const fromRing = (limit: number) => {
    const batches = AnswerRing.drain(ring, limit, P.DONE)
    if (batches.length > 0) deliverFrames(batches, handlers.onFrame)
  }
  /** A message from the thread: the ring up to its position first, then its batch, if it has one. */
  const take = (message: unknown) => {
    if (typeof message === "number") return fromRing(message)
    if (Array.isArray(message) && message.length === 2 && typeof message[0] === "number") {
      fromRing(message[0])
      return handlers.onFrame(message[1])
    }
    handlers.onFrame(message)
  }
  /**
   * Reads what the thread sent, in the order it sent it: the ring up to
   * where it stood when a message was posted, then that message. It ends
   * only when the ring is read to its end with no message waiting, so that
   * the thread, seeing the ring empty, posts a wake-up for what it writes next.
   */
  const pump = () => {
    for (;;) {
      const end = AnswerRing.written(ring)
      const next = NodeWorkerThreads.receiveMessageOnPort(port1)
      if (gone) return
      if (next !== undefined) {
        take(next.message)
        continue
      }
      fromRing(end)
      if (AnswerRing.written(ring) === end) return
    }
  }
  port1.on("message", (first: unknown) => {
    if (gone) return
    take(first)
    pump()
  })
  worker.on("error", (e) => {
    error = e
  })
  worker.on("exit", (exitCode) => {
    // what it posted or wrote to the ring before it ended is still there: read first, in order
    pump()
    gone = true
    port1.close()
    handlers.onEnd({
      exitCode,
      signal: null,
      detail: endDetail(exitCode, killed, error, config.maxMemory),
      // nothing but the pool stops a thread (a kill from outside takes the whole process)
      killedFromOutside: false,
      lostChannel: undefined,
      spawnError: undefined,
      stderr: output.stderrTail()
    })
  })
  return {
    label: `thread ${worker.threadId}`,
    pid: undefined,
    threadId: worker.threadId,
    send: (messages: ReadonlyArray<P.ToWorker>) => {
      if (!gone) port1.postMessage(jsonFits(messages) ? JSON.stringify(messages) : messages)
    },
    accepting: () => !gone,
    kill: () => {
      if (gone) return
      killed = true
      void worker.terminate()
    },
    receiving: () => false
  }
}

/**
 * Whether a batch crosses as JSON text rather than by structured clone: when
 * every field of every record, and every input of a `Run`, is a short string
 * or a number JSON carries exactly (`AnswerRing.carriesAsText`; a long string
 * is cheaper cloned, see `AnswerRing.MAX_STRING`). Measured on 20,000 tiny tasks: a batch of
 * `Run`s cloned cost the main thread ~0.28 µs a task more than as JSON text;
 * anything else (bytes, objects, long text) is cloned, and so is a `Run` of
 * more than `AnswerRing.MAX_VALUES` inputs (a chunk), as answers in text are:
 * 1,000,000 squares in "auto" chunks on 2 threads, 6 alternated runs,
 * 10.3–11.6 M/s with chunks as text, 11.5–12.1 M/s cloned. A caller's trace
 * context (`caller.ts`: its span's ids and whether it is sampled, and its log
 * level) crosses as text too when its strings are short: a program that
 * calls the pool inside a span (an HTTP handler) would otherwise clone
 * every batch (measured, 20,000 tiny tasks in a span on 2 threads, 5
 * alternated runs: rounds 1–5 184k → 197k tasks/s, warm rounds 265k → 271k).
 * Unlike answers (`answerRing.ts`), `Run`s of numbers do not cross as
 * float64s: measured, one `Float64Array` a batch cost the parent 0.05–0.065 µs
 * a `Run` against 0.10 as text (its post costs more than a string's), and
 * the parent's thread per tiny task (~1.5 µs) was the same within noise:
 * not worth a third form of request.
 */
export const jsonFits = (messages: ReadonlyArray<P.ToWorker>): boolean => {
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!
    for (let j = 0; j < message.length; j++) {
      const field = message[j]
      if (AnswerRing.carriesAsText(field)) continue
      if (message[0] !== P.RUN) return false
      if (j === 6 && callerFits(field)) continue
      if (j !== 4) return false
      const inputs = field as ReadonlyArray<unknown>
      if (inputs.length > AnswerRing.MAX_VALUES) return false
      for (let k = 0; k < inputs.length; k++) if (!AnswerRing.carriesAsText(inputs[k])) return false
    }
  }
  return true
}

/** A `Run`'s caller context, `[[traceId, spanId, sampled] | null, level]`, that JSON text carries exactly. */
const callerFits = (field: unknown): boolean => {
  if (!Array.isArray(field) || field.length !== 2 || !AnswerRing.carriesAsText(field[1])) return false
  const span: unknown = field[0]
  if (span === null) return true
  return (
    Array.isArray(span) &&
    span.length === 3 &&
    typeof span[0] === "string" &&
    AnswerRing.carriesAsText(span[0]) &&
    typeof span[1] === "string" &&
    AnswerRing.carriesAsText(span[1]) &&
    typeof span[2] === "boolean"
  )
}

/** How a thread ended, in words: its error when it threw, its heap when it ran out of it. */
const endDetail = (exitCode: number, killed: boolean, error: unknown, maxMemory: number | undefined): string => {
  if (killed) return "was terminated by the pool"
  const code = (error as { code?: unknown } | undefined)?.code
  if (code === "ERR_WORKER_OUT_OF_MEMORY") {
    return `ran out of memory${maxMemory === undefined ? "" : ` (its heap is limited to ${Math.ceil(maxMemory / MB)} MB by maxWorkerMemory)`}`
  }
  if (error !== undefined) {
    return `exited with code ${exitCode} after an uncaught ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`
  }
  return `exited with code ${exitCode}`
}

/**
 * Why Node refuses `execArgv` for a thread, if it does: only per-thread
 * options are taken (`--conditions`, `--import`, `--no-warnings`...), not
 * V8's or the process's (`--max-old-space-size`: use `maxWorkerMemory`).
 * Node's `Worker` checks them when it is made, so a probe thread is made and
 * stopped at once: the pool refuses them when it is built, not at a first
 * start that would fail.
 */
export const refusedExecArgv = (execArgv: ReadonlyArray<string>): string | undefined => {
  try {
    const probe = new NodeWorkerThreads.Worker("", { eval: true, execArgv: [...execArgv], stdout: true, stderr: true })
    void probe.terminate()
    return undefined
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  }
}

/** The path of the thread's entry, for tests and messages. */
export const entryPath = NodeUrl.fileURLToPath(entry)
