/**
 * The worker's runtime: it takes jobs from the parent and runs them one at a
 * time, in the order their `Run`s arrived, then answers (see `protocol.ts`
 * for the ordering rules kept here). Importing this module does nothing;
 * `start`, called by the entry (`../workerMain.ts`), wires the channel and
 * says the worker is ready.
 *
 * Imports are deep (`effect/Effect`, not `effect`): a worker starts faster
 * when it loads only what it uses.
 *
 * @internal
 */
import type * as Context from "effect/Context"
import * as Exit from "effect/Exit"
import { serializeDefect } from "../codec.ts"
import {
  ArrayPrototypePush,
  PerformanceNow,
  PromisePrototypeThen,
  QueueMicrotask,
  SetImmediate
} from "../primordials.ts"
import * as P from "../protocol.ts"
import * as Tiering from "../tiering.ts"
import * as WorkerContext from "../workerContext.ts"
import * as Compaction from "./compaction.ts"
import * as Execution from "./execution.ts"
import * as WorkerJob from "./job.ts"
import type { AnyTask } from "./loading.ts"
import * as Loading from "./loading.ts"
import * as Outbox from "./outbox.ts"
import * as Telemetry from "./telemetry.ts"
import type { Transport } from "./transport.ts"

/**
 * After a job that kept the event loop busy this long, the worker reads its
 * pipe before it starts the next one, so that an interrupt sent meanwhile for
 * a held job is seen in time. Shorter jobs run back to back, which keeps tiny
 * tasks cheap; the parent never waits on this for more than a moment.
 */
const YIELD_AFTER_MS = 1

interface Runtime {
  readonly outbox: Outbox.Outbox
  readonly loader: Loading.Loader
  readonly execution: Execution.Execution
  readonly compaction: Compaction.Compaction
  /** jobs held, not started yet, from `heldHead` on */
  readonly held: Array<WorkerJob.Job>
  heldHead: number
  running: WorkerJob.Job | undefined
  /** the running job, while its task's module is being imported */
  importing: WorkerJob.Job | undefined
  /** true while `pump` is on the stack: a job that ends synchronously returns to its loop instead of recursing */
  pumping: boolean
  shuttingDown: boolean
  /** when the worker last read its pipe */
  sliceStart: number
  /** a read of the whole pipe is due before the next job starts (see `pumpLoop`) */
  yielding: boolean
  readonly transport: Transport
  /** a pump is due in a microtask (see `schedulePump`) */
  pumpScheduled: boolean
  overMemory: boolean
}

/** Starts the worker on its transport: takes the parent's messages, and says it is ready. */
export const start = (transport: Transport): void => {
  const outbox = Outbox.make(transport)
  const telemetry = Telemetry.make(outbox, transport.workerId, transport.attributes)
  const runtime: Runtime = {
    outbox,
    loader: Loading.make(),
    execution: Execution.make(
      telemetry,
      (answer) => finish(runtime, answer),
      (job, step) => guard(runtime, job, step),
      transport.wire,
      (record) => {
        // what waits goes first (the stream's logs), then the record alone, which may throw
        Outbox.flush(outbox)
        Outbox.send(outbox, [record])
      }
    ),
    compaction: Compaction.make(),
    held: [],
    heldHead: 0,
    running: undefined,
    importing: undefined,
    pumping: false,
    shuttingDown: false,
    sliceStart: PerformanceNow(),
    yielding: false,
    transport,
    pumpScheduled: false,
    overMemory: false
  }
  // Replies still in the outbox go out before the worker ends, whatever ends
  // it (`process.exit()` in a task, an uncaught exception): the transport
  // sends synchronously, so they are not lost with the worker. So do the
  // elements a stream has emitted and not sent yet.
  process.on("exit", () => {
    try {
      runtime.execution.flushStream?.()
    } finally {
      Outbox.flush(outbox)
    }
  })
  WorkerContext.register({
    nestedPool: (error) => {
      const job = runtime.importing
      if (job === undefined) return
      // the module's import fails with it: the parent stops sending that module's tasks for a while
      runtime.importing = undefined
      finish(runtime, [P.JOB_FAILED, job.id, [P.IMPORT_FAILED, serializeDefect(error)]])
      Outbox.flush(outbox)
    }
  })
  transport.listen(
    (messages) => {
      // Every batch of a read is taken in before any job starts: an INTERRUPT
      // or a REVOKE may come in a batch of its own, after its job's RUN, and
      // must find that job still held (measured: a held job started between
      // the two frames, and a stolen one ran twice). A transport delivers the
      // batches of one read in one go; `pump` runs after them (see below).
      runtime.pumping = true
      try {
        onMessages(runtime, messages)
      } finally {
        runtime.pumping = false
      }
      schedulePump(runtime)
    },
    () => Outbox.parentGone(outbox)
  )
  Outbox.send(outbox, [[P.READY]])
}

const answer = (runtime: Runtime, message: P.FromWorker): void => Outbox.push(runtime.outbox, message)

// ---------------------------------------------------------------------------
// messages from the parent
// ---------------------------------------------------------------------------

/** Takes in one frame of messages; the read they came in starts jobs once it is whole (see `start`). */
const onMessages = (runtime: Runtime, messages: ReadonlyArray<P.ToWorker>): void => {
  if (!runtime.yielding) runtime.sliceStart = PerformanceNow()
  for (const message of messages) {
    switch (message[0]) {
      case P.DEFINE:
        Loading.define(runtime.loader, message)
        break
      case P.RUN:
        ArrayPrototypePush(runtime.held, WorkerJob.fromRun(message))
        break
      case P.INTERRUPT:
        interrupt(runtime, message[1])
        break
      case P.SHUTDOWN:
        runtime.shuttingDown = true
        break
      case P.REVOKE:
        revoke(runtime, message[1])
        break
      case P.PING:
        // its number was its message
        break
      case P.CREDIT:
        credit(runtime, message[1], message[2])
        break
    }
  }
}

/** A held job that is not interrupted yet, by its id. */
const heldJob = (runtime: Runtime, id: number): WorkerJob.Job | undefined => {
  for (let i = runtime.heldHead; i < runtime.held.length; i++) {
    const job = runtime.held[i]!
    if (job.id === id && !job.interrupted) return job
  }
  return undefined
}

const interrupt = (runtime: Runtime, id: number): void => {
  const running = runtime.running
  if (running?.id === id) {
    running.interrupted = true
    running.fiber?.interruptUnsafe()
    return
  }
  const job = heldJob(runtime, id)
  if (job === undefined) return
  // held, not started: it never starts
  job.interrupted = true
  answer(runtime, [P.OUTCOMES, id, [[P.INTERRUPTED]]])
}

/** A stream job may send `n` more elements: the running one, or a held one that starts with them. */
const credit = (runtime: Runtime, id: number, n: number): void => {
  const job = runtime.running?.id === id ? runtime.running : heldJob(runtime, id)
  if (job !== undefined) WorkerJob.grant(job, n)
}

/** Gives a held job back to the parent, for an idle worker; one that started is not given back. */
const revoke = (runtime: Runtime, id: number): void => {
  const job = heldJob(runtime, id)
  if (job === undefined) return
  job.interrupted = true // dropped: `pump` skips it
  answer(runtime, [P.REVOKED, id])
  Outbox.flush(runtime.outbox)
}

// ---------------------------------------------------------------------------
// running held jobs
// ---------------------------------------------------------------------------

/**
 * Starts held jobs once the batches that arrived together are all in: a
 * transport delivers the batches of one read synchronously, one after the
 * other, and the microtask runs after the last of them.
 */
const schedulePump = (runtime: Runtime): void => {
  if (runtime.yielding || runtime.pumpScheduled) return
  runtime.pumpScheduled = true
  QueueMicrotask(() => {
    runtime.pumpScheduled = false
    if (!runtime.yielding) pump(runtime)
  })
}

/** Starts held jobs while the worker is free. */
const pump = (runtime: Runtime): void => {
  if (runtime.pumping) return
  runtime.pumping = true
  try {
    pumpLoop(runtime)
  } finally {
    runtime.pumping = false
  }
}

const pumpLoop = (runtime: Runtime): void => {
  const held = runtime.held
  while (runtime.running === undefined) {
    if (runtime.heldHead === held.length) {
      held.length = runtime.heldHead = 0
      Outbox.flush(runtime.outbox)
      if (runtime.shuttingDown) shutdown(runtime)
      else Compaction.arm(runtime.compaction, () => runtime.running === undefined && held.length === 0)
      return
    }
    const job = held[runtime.heldHead]!
    if (job.interrupted) {
      runtime.heldHead++
      continue
    }
    if (Execution.groupFailed(runtime.execution, job)) {
      // another chunk of its map failed: it would be cancelled anyway
      runtime.heldHead++
      job.interrupted = true
      answer(runtime, [P.OUTCOMES, job.id, [[P.INTERRUPTED]]])
      continue
    }
    // every answer is written before the next job starts (see protocol.ts)
    Outbox.flush(runtime.outbox)
    if (runtime.yielding) return
    if (PerformanceNow() - runtime.sliceStart >= YIELD_AFTER_MS) {
      // Two hops: called from a message handler (the poll phase), one
      // setImmediate would run in this very loop iteration's check phase,
      // before the pipe is polled again; the second runs after the next poll.
      // Meanwhile what arrives is only read in: no job starts before it is all in.
      runtime.yielding = true
      SetImmediate(() =>
        SetImmediate(() => {
          runtime.yielding = false
          runtime.sliceStart = PerformanceNow()
          pump(runtime)
        })
      )
      return
    }
    runtime.heldHead++
    guard(runtime, job, () => startJob(runtime, job))
  }
}

/**
 * Runs a step of a job. The task's code runs inside Effect, which turns its
 * throws into defects; what runs outside it (a module's exports, a tracer's
 * spans, the worker's own code) is caught here: the job fails with a defect,
 * and the worker goes on with the next one.
 */
const guard = (runtime: Runtime, job: WorkerJob.Job, step: () => void): void => {
  try {
    step()
  } catch (error) {
    if (runtime.running !== job) return
    job.fiber = undefined
    job.span = undefined
    finish(runtime, [P.JOB_FAILED, job.id, [P.SETUP_FAILED, [P.DEFECT, serializeDefect(error)]]])
  }
}

/** The running job has its answer: it goes out with the next flush, and the next job may start. */
const finish = (runtime: Runtime, message: P.FromWorker): void => {
  answer(runtime, message)
  runtime.running = undefined
  const maxMemory = runtime.transport.maxMemory
  if (maxMemory !== undefined && !runtime.overMemory) {
    const memory = runtime.transport.memory()
    if (memory > maxMemory) {
      runtime.overMemory = true
      answer(runtime, [P.OVER_MEMORY, memory])
    }
  }
  pump(runtime)
}

const startJob = (runtime: Runtime, job: WorkerJob.Job): void => {
  runtime.running = job
  Compaction.cancel(runtime.compaction)
  const ref = runtime.loader.refs.get(job.ref)
  if (ref === undefined) {
    // cannot happen: the parent defines a reference before its first use
    return finish(runtime, [P.JOB_FAILED, job.id, [P.NOT_FOUND, `Unknown task reference ${job.ref}`]])
  }
  if (ref.task !== undefined) return withLayer(runtime, job, ref, ref.task)
  runtime.importing = job
  PromisePrototypeThen(
    Loading.importModule(runtime.loader, ref.module),
    (exports) =>
      guard(runtime, job, () => {
        // answered while it loaded (see WorkerContext's nestedPool)
        if (runtime.importing !== job) return
        runtime.importing = undefined
        if (job.interrupted) return finish(runtime, [P.OUTCOMES, job.id, [[P.INTERRUPTED]]])
        const found = Loading.findTask(exports, ref)
        if (typeof found === "string") return finish(runtime, [P.JOB_FAILED, job.id, [P.NOT_FOUND, found]])
        ref.task = found
        withLayer(runtime, job, ref, found)
      }),
    (error) =>
      guard(runtime, job, () => {
        if (runtime.importing !== job) return
        runtime.importing = undefined
        finish(runtime, [P.JOB_FAILED, job.id, [P.IMPORT_FAILED, serializeDefect(error)]])
      })
  )
}

const withLayer = (runtime: Runtime, job: WorkerJob.Job, ref: Loading.TaskRef, task: AnyTask): void => {
  // the task's module is loaded: start-up is over, V8 may optimise again
  Tiering.release()
  const layer = task.layer
  if (layer === undefined) return runLoaded(runtime, job, ref, task, Loading.emptyContext)
  const built = Loading.built(runtime.loader, layer)
  if (built !== undefined) return runLoaded(runtime, job, ref, task, built)
  const context = Telemetry.jobContext(runtime.execution.telemetry, job, Loading.emptyContext)
  const fiber = Loading.build(runtime.loader, layer, context)
  job.fiber = fiber
  fiber.addObserver((exit) =>
    guard(runtime, job, () => {
      job.fiber = undefined
      if (Exit.isSuccess(exit)) {
        if (job.interrupted) return finish(runtime, [P.OUTCOMES, job.id, [[P.INTERRUPTED]]])
        return runLoaded(runtime, job, ref, task, exit.value)
      }
      const outcome = Execution.outcomeOfFailure(task, exit.cause, runtime.execution.wire)
      if (outcome[0] === P.INTERRUPTED) return finish(runtime, [P.OUTCOMES, job.id, [outcome]])
      finish(runtime, [P.JOB_FAILED, job.id, [P.SETUP_FAILED, outcome]])
    })
  )
}

/** Runs a job whose task is loaded; the first time for a reference, says so first (see P.LOADED). */
const runLoaded = (
  runtime: Runtime,
  job: WorkerJob.Job,
  ref: Loading.TaskRef,
  task: AnyTask,
  layerContext: Context.Context<any>
): void => {
  if (!ref.loaded) {
    ref.loaded = true
    answer(runtime, [P.LOADED, job.ref])
    Outbox.flush(runtime.outbox)
  }
  Execution.run(runtime.execution, job, task, layerContext)
}

/** Releases the task layers, then exits. */
const shutdown = (runtime: Runtime): void => {
  runtime.shuttingDown = false
  const exit = () => {
    Outbox.flush(runtime.outbox)
    runtime.transport.exit(0)
  }
  PromisePrototypeThen(Loading.release(runtime.loader), exit, exit)
}
