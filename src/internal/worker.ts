/**
 * The worker process: takes jobs from the parent over IPC and runs them one at
 * a time, each input in its own fiber, then answers. See `protocol.ts` for the
 * ordering rules this file keeps.
 *
 * Imports are deep (`effect/Effect`, not `effect`): a worker starts faster
 * when it loads only what it uses.
 *
 * @internal
 */
import * as NodeFs from "node:fs"
import * as NodeNet from "node:net"
import * as NodeV8 from "node:v8"
import * as NodeVm from "node:vm"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import type * as Logger from "effect/Logger"
import type * as LogLevel from "effect/LogLevel"
import * as References from "effect/References"
import * as Scope from "effect/Scope"
import * as Tracer from "effect/Tracer"
import { type Any as AnyTask, isTask } from "../Task.ts"
import * as Channel from "./channel.ts"
import { CodecFailure, codecFor, serializeDefect, toJson } from "./codec.ts"
import * as P from "./protocol.ts"
import * as Tiering from "./tiering.ts"

/**
 * After a job that kept the event loop busy this long, the worker reads its
 * pipe before it starts the next one, so that an interrupt sent meanwhile for
 * a held job is seen in time. Shorter jobs run back to back, which keeps tiny
 * tasks cheap; the parent never waits on this for more than a moment.
 */
const YIELD_AFTER_MS = 1

interface TaskRef {
  readonly module: string
  readonly key: string
  readonly name: string
  task: AnyTask | undefined
  /** LOADED was sent for it */
  loaded: boolean
}

interface Job {
  readonly id: number
  readonly ref: number
  readonly mode: P.Mode
  readonly inputs: ReadonlyArray<unknown>
  readonly group: number
  readonly caller: P.Caller | undefined
  interrupted: boolean
  /** the fiber running now for this job: an input, or the task's layer */
  fiber: Fiber.Fiber<unknown, unknown> | undefined
  /** the job's span, when its caller had one */
  span: Tracer.Span | undefined
}

const refs = new Map<number, TaskRef>()
const modules = new Map<string, Promise<Record<string, unknown>>>()
const layers = new Map<Layer.Layer<any, any, never>, Context.Context<any>>()
const rootScope = Scope.makeUnsafe()

const held: Array<Job> = []
let heldHead = 0
let running: Job | undefined
/** true while `pump` is on the stack: a job that ends synchronously returns to its loop instead of recursing */
let pumping = false
let shuttingDown = false
let sliceStart = performance.now()

const outbox: Array<P.FromWorker> = []

const serialization: Channel.Serialization = process.env[P.SERIALIZATION_ENV] === "advanced" ? "advanced" : "json"
const encode = Channel.encoder(serialization)
/** false once the parent is gone: there is no one to answer */
let connected = true

/** for a blocking wait of 1 ms (Atomics.wait on a private buffer) */
const pause = new Int32Array(new SharedArrayBuffer(4))

/**
 * Writes a batch to the parent and returns when it is in the kernel (see
 * `channel.ts` for why the write blocks). Throws if it cannot be serialized.
 */
const sendRaw = (message: ReadonlyArray<P.FromWorker>): void => {
  const frame = encode(message)
  const bytes = typeof frame === "string" ? Buffer.from(frame, "utf8") : frame
  let offset = 0
  while (offset < bytes.length && connected) {
    try {
      offset += NodeFs.writeSync(Channel.FROM_WORKER_FD, bytes, offset)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      // the fd is blocking; EAGAIN only if something made it non-blocking
      if (code === "EAGAIN") Atomics.wait(pause, 0, 0, 1)
      else if (code === "EINTR") continue
      else return parentGone()
    }
  }
}

/** The parent is gone (its end of the channel closed): nothing is waiting for answers any more. */
const parentGone = (): void => {
  if (!connected) return
  connected = false
  outbox.length = 0
  // not at once: this may run inside a write, or inside the 'exit' event
  setImmediate(() => process.exit(0))
}

/**
 * Sends every answer waiting in the outbox. An answer whose value cannot be
 * serialized (a Schema that lets a function or a cycle through) is replaced by
 * a codec error for that job alone.
 */
const flush = (): void => {
  if (outbox.length === 0 || !connected) return
  const batch = outbox.splice(0, outbox.length)
  try {
    sendRaw(batch)
  } catch {
    for (const message of batch) {
      try {
        sendRaw([message])
      } catch (error) {
        if (message[0] !== P.DONE && message[0] !== P.OUTCOMES) continue
        const reason = `The result could not be serialized: ${errorMessage(error)}`
        try {
          sendRaw([[P.OUTCOMES, message[1], [[P.CODEC_ERROR, "success", reason]]]])
        } catch {
          // cannot happen: that record holds only strings and numbers
        }
      }
    }
  }
}

// Replies still in the outbox go out before the process ends, whatever ends it
// (`process.exit()` in a task, an uncaught exception): the writes are
// synchronous, so they are not lost with the process.
process.on("exit", flush)

const answer = (message: P.FromWorker): void => {
  outbox.push(message)
}

// ---------------------------------------------------------------------------
// messages from the parent
// ---------------------------------------------------------------------------

const onMessage = (messages: ReadonlyArray<P.ToWorker>): void => {
  sliceStart = performance.now()
  // the whole batch is read before any job starts: an interrupt later in the
  // batch must find its job still held, even if the job before it ended at once
  pumping = true
  try {
    readMessages(messages)
  } finally {
    pumping = false
  }
  pump()
}

const readMessages = (messages: ReadonlyArray<P.ToWorker>): void => {
  for (const message of messages) {
    switch (message[0]) {
      case P.DEFINE:
        refs.set(message[1], { module: message[2], key: message[3], name: message[4], task: undefined, loaded: false })
        break
      case P.RUN:
        held.push({
          id: message[1],
          ref: message[2],
          mode: message[3],
          inputs: message[4],
          group: message[5],
          caller: message[6],
          interrupted: false,
          fiber: undefined,
          span: undefined
        })
        break
      case P.INTERRUPT:
        interrupt(message[1])
        break
      case P.SHUTDOWN:
        shuttingDown = true
        break
      case P.REVOKE:
        revoke(message[1])
        break
    }
  }
}

const interrupt = (id: number): void => {
  if (running?.id === id) {
    running.interrupted = true
    running.fiber?.interruptUnsafe()
    return
  }
  for (let i = heldHead; i < held.length; i++) {
    const job = held[i]!
    if (job.id === id && !job.interrupted) {
      // held, not started: it never starts
      job.interrupted = true
      answer([P.OUTCOMES, id, [[P.INTERRUPTED]]])
      return
    }
  }
}

/** Gives a held job back to the parent, for an idle worker; one that started is not given back. */
const revoke = (id: number): void => {
  for (let i = heldHead; i < held.length; i++) {
    const job = held[i]!
    if (job.id === id && !job.interrupted) {
      job.interrupted = true // dropped: `pump` skips it
      answer([P.REVOKED, id])
      flush()
      return
    }
  }
}

/** Starts held jobs while the worker is free. */
const pump = (): void => {
  if (pumping) return
  pumping = true
  try {
    pumpLoop()
  } finally {
    pumping = false
  }
}

const pumpLoop = (): void => {
  while (running === undefined) {
    if (heldHead === held.length) {
      held.length = heldHead = 0
      flush()
      if (shuttingDown) shutdown()
      else armCompaction()
      return
    }
    const job = held[heldHead]!
    if (job.interrupted) {
      heldHead++
      continue
    }
    if (job.group !== 0 && failedGroups.has(job.group)) {
      // another chunk of its map failed: it would be cancelled anyway
      heldHead++
      job.interrupted = true
      answer([P.OUTCOMES, job.id, [[P.INTERRUPTED]]])
      continue
    }
    flush()
    if (performance.now() - sliceStart >= YIELD_AFTER_MS) {
      // Two hops: called from a message handler (the poll phase), one
      // setImmediate would run in this very loop iteration's check phase,
      // before the pipe is polled again; the second runs after the next poll.
      setImmediate(yieldAgain)
      return
    }
    heldHead++
    guardJob(job, () => start(job))
  }
}

/**
 * Runs a step of a job. The task's code runs inside Effect, which turns its
 * throws into defects; what runs outside it (a module's exports, a tracer's
 * spans, the worker's own code) is caught here: the job fails with a defect,
 * and the worker goes on with the next one.
 */
const guardJob = (job: Job, step: () => void): void => {
  try {
    step()
  } catch (error) {
    if (running !== job) return
    job.fiber = undefined
    job.span = undefined
    finish([P.JOB_FAILED, job.id, [P.SETUP_FAILED, [P.DEFECT, serializeDefect(error)]]])
  }
}

const yieldAgain = (): void => {
  setImmediate(resume)
}

const resume = (): void => {
  sliceStart = performance.now()
  pump()
}

const maxRss = process.env[P.MAX_RSS_ENV] === undefined ? undefined : Number(process.env[P.MAX_RSS_ENV])
let overMemory = false

const finish = (message: P.FromWorker): void => {
  answer(message)
  running = undefined
  if (maxRss !== undefined && !overMemory) {
    const rss = process.memoryUsage.rss()
    if (rss > maxRss) {
      overMemory = true
      answer([P.OVER_MEMORY, rss])
    }
  }
  pump()
}

// ---------------------------------------------------------------------------
// idle compaction
// ---------------------------------------------------------------------------

/**
 * A worker idle this long compacts its heap, once until its next job.
 * Importing `effect` and running a burst of tasks grow V8's young generation
 * to tens of MB, which V8 keeps while the process idles; a last-resort GC
 * gives it back (measured: an idle worker's RSS from ~115 MB to ~80 MB). A
 * worker fed without pause never idles this long, so it pays nothing; the GC
 * itself takes a few ms of an otherwise idle process.
 */
const COMPACT_AFTER_IDLE_MS = 500

/** V8's `gc`, reached without `--expose-gc` on the command line (the flag holds for new contexts). */
const gc = (() => {
  try {
    NodeV8.setFlagsFromString("--expose-gc")
    return NodeVm.runInNewContext("gc") as (options: object) => void
  } catch {
    return undefined
  }
})()

let compactTimer: NodeJS.Timeout | undefined
let compacted = false

const armCompaction = (): void => {
  if (gc === undefined || compacted || compactTimer !== undefined) return
  compactTimer = setTimeout(compact, COMPACT_AFTER_IDLE_MS)
  compactTimer.unref()
}

const compact = (): void => {
  compactTimer = undefined
  if (running !== undefined || heldHead < held.length) return
  compacted = true
  gc!({ type: "major", execution: "sync", flavor: "last-resort" })
}

// ---------------------------------------------------------------------------
// running a job
// ---------------------------------------------------------------------------

const start = (job: Job): void => {
  running = job
  compacted = false
  if (compactTimer !== undefined) {
    clearTimeout(compactTimer)
    compactTimer = undefined
  }
  const ref = refs.get(job.ref)
  if (ref === undefined) {
    // cannot happen: the parent defines a reference before its first use
    return finish([P.JOB_FAILED, job.id, [P.NOT_FOUND, `Unknown task reference ${job.ref}`]])
  }
  if (ref.task !== undefined) return withLayer(job, ref, ref.task)
  loadModule(ref.module).then(
    (exports) =>
      guardJob(job, () => {
        if (job.interrupted) return finish([P.OUTCOMES, job.id, [[P.INTERRUPTED]]])
        const found = findTask(exports, ref)
        if (typeof found === "string") return finish([P.JOB_FAILED, job.id, [P.NOT_FOUND, found]])
        ref.task = found
        withLayer(job, ref, found)
      }),
    (error) => guardJob(job, () => finish([P.JOB_FAILED, job.id, [P.IMPORT_FAILED, serializeDefect(error)]]))
  )
}

const loadModule = (url: string): Promise<Record<string, unknown>> => {
  let loading = modules.get(url)
  if (loading === undefined) {
    loading = import(url)
    modules.set(url, loading)
  }
  return loading
}

const findTask = (exports: Record<string, unknown>, ref: TaskRef): AnyTask | string => {
  const named: Array<AnyTask> = []
  for (const value of Object.values(exports)) {
    if (!isTask(value) || value.name !== ref.name) continue
    if (value.key === ref.key) return value
    named.push(value)
  }
  if (named.length > 0) {
    return `Module ${ref.module} exports a task named "${ref.name}", but not the variant the pool was given: export the task exactly as it is passed to the pool (Task.provide returns a new task that must be exported too)`
  }
  const names = Object.values(exports)
    .filter(isTask)
    .map((task) => `"${task.name}"`)
  return `Module ${ref.module} exports no task named "${ref.name}"${names.length > 0 ? ` (it exports ${names.join(", ")})` : ""}`
}

const withLayer = (job: Job, ref: TaskRef, task: AnyTask): void => {
  // the task's module is loaded: start-up is over, V8 may optimise again
  Tiering.release()
  const layer = task.layer
  if (layer === undefined) return runLoaded(job, ref, task, emptyContext)
  const context = layers.get(layer)
  if (context !== undefined) return runLoaded(job, ref, task, context)
  const scope = Scope.forkUnsafe(rootScope)
  const fiber = Effect.runForkWith(jobContext(job, emptyContext))(Layer.buildWithScope(layer, scope))
  job.fiber = fiber
  const onExit = (exit: Exit.Exit<Context.Context<any>, unknown>) => {
    job.fiber = undefined
    if (Exit.isSuccess(exit)) {
      layers.set(layer, exit.value)
      if (job.interrupted) return finish([P.OUTCOMES, job.id, [[P.INTERRUPTED]]])
      return runLoaded(job, ref, task, exit.value)
    }
    // a failed build releases what it acquired; the next job tries again
    Effect.runFork(Scope.close(scope, exit))
    const outcome = outcomeOfFailure(task, exit.cause)
    if (outcome[0] === P.INTERRUPTED) return finish([P.OUTCOMES, job.id, [outcome]])
    finish([P.JOB_FAILED, job.id, [P.SETUP_FAILED, outcome]])
  }
  const exit = fiber.pollUnsafe()
  if (exit !== undefined) onExit(exit)
  else fiber.addObserver((exit) => guardJob(job, () => onExit(exit)))
}

const emptyContext = Context.empty() as Context.Context<any>

// ---------------------------------------------------------------------------
// logs and spans cross to the parent
// ---------------------------------------------------------------------------

/** The job a fiber works for, so that its log entries reach that job's caller. */
const JobId = Context.Reference<number>("effect-process-pool/JobId", { defaultValue: () => -1 })

/**
 * Replaces the worker's loggers: each entry goes to the parent, which logs it
 * with the caller's loggers, annotated with the worker and the task.
 *
 * Built by hand rather than with `Logger.make`: the runtime only calls `log`,
 * and `effect/Logger` imports the file logger and what it needs (FileSystem,
 * Stream...), which would cost every worker about 7 MB and 15 ms at start.
 */
const logToParent = (options: Logger.Options<unknown>): void => {
  const message = Array.isArray(options.message) ? options.message.map(toJson) : [toJson(options.message)]
  if (options.cause.reasons.length > 0) message.push(Cause.pretty(options.cause))
  const annotations: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(options.fiber.getRef(References.CurrentLogAnnotations))) {
    annotations[key] = toJson(value)
  }
  answer([P.LOG, options.fiber.getRef(JobId), options.logLevel, message, annotations])
  flush()
}
const parentLoggers: ReadonlySet<Logger.Logger<unknown, any>> = new Set([
  { log: logToParent } as unknown as Logger.Logger<unknown, void>
])

/** The context a job's fibers run with: the task layer's services, and the caller's log level and span. */
const jobContext = (job: Job, base: Context.Context<any>): Context.Context<any> => {
  let context = Context.add(Context.add(base, References.CurrentLoggers, parentLoggers), JobId, job.id)
  const caller = job.caller
  if (caller === undefined) return context
  context = Context.add(context, References.MinimumLogLevel, caller[1] as LogLevel.LogLevel)
  if (job.span !== undefined) context = Context.add(context, Tracer.ParentSpan, job.span)
  return context
}

/**
 * When the caller had a span, the job runs in a span of its own whose parent
 * is the caller's: the trace crosses the process. One span per job (a chunk),
 * with the task's name, the worker's pid and the chunk size as attributes.
 */
const startSpan = (job: Job, task: AnyTask, context: Context.Context<any>): void => {
  const parent = job.caller?.[0]
  if (parent === null || parent === undefined) return
  try {
    job.span = Effect.runSyncWith(context)(
      Effect.makeSpan(`ProcessPool.task ${task.name}`, {
        parent: Tracer.externalSpan({ traceId: parent[0], spanId: parent[1], sampled: parent[2] }),
        attributes: {
          "task.name": task.name,
          "worker.pid": process.pid,
          "worker.id": workerId,
          "chunk.size": job.inputs.length
        }
      })
    )
  } catch {
    // the task layer's tracer threw: the job runs without its span
  }
}

const endSpan = (job: Job, outcomes: ReadonlyArray<P.Outcome> | undefined): void => {
  const span = job.span
  if (span === undefined) return
  job.span = undefined
  const failed = outcomes?.find((outcome) => outcome[0] !== P.SUCCESS)
  try {
    span.end(process.hrtime.bigint() + clockOffset, failed === undefined ? Exit.void : Exit.fail(failed))
  } catch {
    // the tracer threw: the span is lost, the job's outcome is not
  }
}

/** from the monotonic clock to the epoch in nanoseconds, as Effect's clock counts */
const clockOffset = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint()
const workerId = Number(process.env[P.WORKER_ENV] ?? -1)

/** Runs a job whose task is loaded; the first time for a reference, says so first (see P.LOADED). */
const runLoaded = (job: Job, ref: TaskRef, task: AnyTask, layerContext: Context.Context<any>): void => {
  if (!ref.loaded) {
    ref.loaded = true
    answer([P.LOADED, job.ref])
    flush()
  }
  if (job.caller !== undefined) startSpan(job, task, layerContext)
  runInputs(job, task, jobContext(job, layerContext), 0, { values: [], outcomes: undefined })
}

/**
 * What a job's inputs came to so far. While every input succeeds, only their
 * encoded values are kept (answered as one `Done`); the first input that does
 * not succeed turns them into per-input outcomes.
 */
interface Results {
  readonly values: Array<unknown>
  outcomes: Array<P.Outcome> | undefined
}

const pushOutcome = (results: Results, outcome: P.Outcome): void => {
  results.outcomes ??= results.values.map((value): P.Outcome => [P.SUCCESS, value])
  results.outcomes.push(outcome)
}

/**
 * Runs the job's inputs from `index` on, in order; synchronous tasks run in a
 * plain loop, an asynchronous one continues from its fiber's observer.
 */
const runInputs = (job: Job, task: AnyTask, context: Context.Context<any>, index: number, results: Results): void => {
  const payload = codecFor(task.payload)
  const run = Effect.runForkWith(context)
  for (let i = index; i < job.inputs.length; i++) {
    if (job.interrupted) {
      pushOutcome(results, [P.INTERRUPTED])
      return complete(job, results)
    }
    const decoded = payload.decode(job.inputs[i])
    if (decoded instanceof CodecFailure) {
      pushOutcome(results, codecOutcome("payload", decoded))
      if (job.mode === P.MODE_STOP_ON_FAILURE) return complete(job, results)
      continue
    }
    let effect: Effect.Effect<unknown, unknown, unknown>
    try {
      effect = task.run(decoded)
    } catch (defect) {
      // `run` itself threw while building its Effect
      effect = Effect.die(defect)
    }
    // an Exit (what `Effect.succeed` and `Effect.fail` build) needs no fiber
    const fiber = Exit.isExit(effect) ? undefined : run(effect)
    const exit = fiber === undefined ? (effect as Exit.Exit<unknown, unknown>) : fiber.pollUnsafe()
    if (exit === undefined) {
      job.fiber = fiber
      fiber!.addObserver((exit) =>
        guardJob(job, () => {
          job.fiber = undefined
          if (record(job, task, exit, results)) runInputs(job, task, context, i + 1, results)
        })
      )
      return
    }
    if (!record(job, task, exit, results)) return
  }
  complete(job, results)
}

/** Records one input's outcome; false when the job ends here. */
const record = (job: Job, task: AnyTask, exit: Exit.Exit<unknown, unknown>, results: Results): boolean => {
  if (Exit.isSuccess(exit)) {
    const encoded = codecFor(task.success).encode(exit.value)
    if (!(encoded instanceof CodecFailure)) {
      if (results.outcomes === undefined) results.values.push(encoded)
      else results.outcomes.push([P.SUCCESS, encoded])
      return true
    }
    pushOutcome(results, codecOutcome("success", encoded))
    if (job.mode === P.MODE_ALL) return true
  } else {
    const outcome = outcomeOfFailure(task, exit.cause)
    pushOutcome(results, outcome)
    if (outcome[0] !== P.INTERRUPTED && job.mode === P.MODE_ALL && !job.interrupted) return true
  }
  complete(job, results)
  return false
}

/**
 * Groups (`map` calls) with a failed chunk; the oldest are forgotten past a
 * bound, since a failed group soon stops sending chunks.
 */
const failedGroups = new Set<number>()
const MAX_FAILED_GROUPS = 256

const complete = (job: Job, results: Results): void => {
  endSpan(job, results.outcomes)
  if (job.group !== 0 && results.outcomes !== undefined && !job.interrupted) {
    failedGroups.add(job.group)
    if (failedGroups.size > MAX_FAILED_GROUPS) failedGroups.delete(failedGroups.values().next().value!)
  }
  finish(results.outcomes === undefined ? [P.DONE, job.id, results.values] : [P.OUTCOMES, job.id, results.outcomes])
}

/** The outcome of a value that did not fit its Schema, with what the Schema threw, if it threw. */
const codecOutcome = (phase: P.CodecPhase, failure: CodecFailure): P.Outcome =>
  failure.cause === undefined
    ? [P.CODEC_ERROR, phase, failure.message]
    : [P.CODEC_ERROR, phase, failure.message, serializeDefect(failure.cause)]

const outcomeOfFailure = (task: AnyTask, cause: Cause.Cause<unknown>): P.Outcome => {
  const failure = cause.reasons.find(Cause.isFailReason)
  if (failure !== undefined) {
    if (task.error === undefined) {
      return [
        P.CODEC_ERROR,
        "failure",
        `The task failed with a typed error but has no \`error\` Schema: ${String(failure.error)}`
      ]
    }
    const encoded = codecFor(task.error).encode(failure.error)
    return encoded instanceof CodecFailure ? codecOutcome("failure", encoded) : [P.FAILURE, encoded]
  }
  const defect = cause.reasons.find(Cause.isDieReason)
  if (defect !== undefined) return [P.DEFECT, serializeDefect(defect.defect)]
  return [P.INTERRUPTED]
}

// ---------------------------------------------------------------------------
// life
// ---------------------------------------------------------------------------

/** Releases the task layers, then exits. */
const shutdown = (): void => {
  shuttingDown = false
  Effect.runPromise(Scope.close(rootScope, Exit.void)).finally(() => {
    flush()
    process.exit(0)
  })
}

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error))

const input = new NodeNet.Socket({ fd: Channel.TO_WORKER_FD, readable: true, writable: false })
const decoder = Channel.decoder(serialization, {
  onMessage: (message) => onMessage(message as ReadonlyArray<P.ToWorker>),
  // only the parent writes this pipe
  onForeign: () => {}
})
input.on("data", (chunk: Buffer) => decoder.push(chunk))
input.on("end", parentGone)
input.on("error", parentGone)
sendRaw([[P.READY]])
