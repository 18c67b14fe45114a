import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Logger, Metric, References, Tracer } from "effect"
import { ProcessPool } from "../src/index.ts"
import * as OutputLines from "../src/internal/outputLines.ts"
import * as O from "./fixtures/observed.ts"
import * as T from "./fixtures/tasks.ts"
import { eventually } from "./helpers/eventually.ts"
import { annotationsOf, onProcesses } from "./helpers/kind.ts"

interface Entry {
  readonly level: string
  readonly message: ReadonlyArray<unknown>
  readonly annotations: Record<string, unknown>
}

/** A logger that keeps what it is given, instead of printing it. */
const capture = () => {
  const entries: Array<Entry> = []
  const logger = Logger.make(({ fiber, logLevel, message }) => {
    entries.push({
      level: logLevel,
      message: message as ReadonlyArray<unknown>,
      annotations: { ...fiber.getRef(References.CurrentLogAnnotations) }
    })
  })
  return { entries, layer: Logger.layer([logger]) }
}

describe("logs cross the process boundary", () => {
  it.live("Effect.log in a task reaches the caller's logger, annotated with worker id, pid and task", () => {
    const { entries, layer } = capture()
    return Effect.gen(function* () {
      assert.strictEqual(yield* ProcessPool.run(O.chatty, 3), 3)
      const logged = entries.filter((e) => e.message[0] === "working on")
      assert.strictEqual(logged.length, 1)
      const [entry] = logged
      assert.deepStrictEqual(entry!.message, ["working on", 3])
      assert.strictEqual(entry!.level, "Info")
      assert.strictEqual(entry!.annotations.task, "chatty")
      assert.strictEqual(entry!.annotations.inner, "yes") // the worker's own annotations
      assert.isNumber(entry!.annotations.workerId)
      // a process is named by its pid, a thread by its thread id
      if (onProcesses) {
        assert.isNumber(entry!.annotations.pid)
        assert.notStrictEqual(entry!.annotations.pid, process.pid)
      } else {
        assert.isNumber(entry!.annotations.threadId)
        assert.isUndefined(entry!.annotations.pid)
      }
      // Debug is below the caller's minimum level
      assert.isFalse(entries.some((e) => e.message[0] === "details of"))
    }).pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 1, stdio: "log" })), Effect.provide(layer))
  })

  it.live("the caller's minimum log level applies in the worker, and caller annotations are kept", () => {
    const { entries, layer } = capture()
    return Effect.gen(function* () {
      yield* ProcessPool.run(O.chatty, 4).pipe(
        Effect.annotateLogs({ request: "r-1" }),
        Effect.provideService(References.MinimumLogLevel, "Debug")
      )
      const debug = entries.find((e) => e.message[0] === "details of")
      assert.isDefined(debug)
      assert.strictEqual(debug!.level, "Debug")
      assert.strictEqual(debug!.annotations.request, "r-1")
    }).pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 1 })), Effect.provide(layer))
  })

  it.live("log entries are not raw text on the worker's stdout; with stdio: 'log' its output lines are logged", () => {
    const { entries, layer } = capture()
    return Effect.gen(function* () {
      yield* ProcessPool.run(O.chatty, 5)
      const key = yield* ProcessPool.run(O.printer, "hello from a worker")
      yield* Effect.sleep(200) // output is a stream of its own, with no ordering against answers
      const output = entries.filter((e) => e.annotations.stream !== undefined)
      assert.isFalse(output.some((e) => String(e.message[0]).includes("working on")))
      const line = output.find((e) => e.message[0] === "hello from a worker")
      assert.isDefined(line)
      assert.deepStrictEqual(line!.annotations, {
        workerId: line!.annotations.workerId,
        ...annotationsOf(key),
        stream: "stdout"
      })
      const err = output.find((e) => e.message[0] === "err: hello from a worker")
      assert.strictEqual(err?.level, "Warn")
    }).pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 1, stdio: "log" })), Effect.provide(layer))
  })
})

describe("stdio: 'log'", () => {
  const outputOf = (entries: ReadonlyArray<Entry>, stream: string) =>
    entries.filter((e) => e.annotations.stream === stream).map((e) => String(e.message[0]))

  it.live("a character split between two reads of the pipe is logged whole, on stdout and stderr", () => {
    const { entries, layer } = capture()
    return Effect.gen(function* () {
      const expected = yield* ProcessPool.run(O.printsUnicode, 2_000)
      // output is a stream of its own, with no ordering against answers
      yield* eventually(
        Effect.sync(() => outputOf(entries, "stdout").length + outputOf(entries, "stderr").length),
        (n) => n >= 2 * expected
      )
      for (const stream of ["stdout", "stderr"]) {
        const lines = outputOf(entries, stream)
        assert.strictEqual(lines.length, expected, stream)
        assert.deepStrictEqual(
          lines.filter((line) => line !== O.UNICODE_LINE),
          [],
          `${stream}: every line is whole (no U+FFFD)`
        )
      }
    }).pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 1, stdio: "log" })), Effect.provide(layer))
  })

  it.live("a line of 20 MB is one entry cut at the bound, which says so; the worker goes on", () => {
    const { entries, layer } = capture()
    const bytes = 20 * 1024 * 1024
    return Effect.gen(function* () {
      assert.strictEqual(yield* ProcessPool.run(O.printsLongLine, bytes), bytes)
      yield* eventually(
        Effect.sync(() => outputOf(entries, "stdout").length),
        (n) => n >= 2
      )
      const [long, after] = outputOf(entries, "stdout")
      assert.strictEqual(
        long,
        "x".repeat(OutputLines.MAX_LINE_BYTES) + OutputLines.cutNote(OutputLines.MAX_LINE_BYTES, bytes)
      )
      assert.strictEqual(after, "after")
      assert.strictEqual(yield* ProcessPool.run(T.square, 3), 9)
    }).pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 1, stdio: "log" })), Effect.provide(layer))
  })
})

describe("metrics", () => {
  const counter = (name: string, task?: string) =>
    Metric.snapshot.pipe(
      Effect.map((snapshots) =>
        snapshots
          .filter((s) => s.id === name && (task === undefined || s.attributes?.task === task))
          .reduce((sum, s) => sum + Number((s.state as { count?: number; value?: number }).count ?? 0), 0)
      )
    )

  it.live("count tasks by name, workers, queue wait and run time; stats reads the same numbers", () =>
    Effect.gen(function* () {
      yield* ProcessPool.map(T.square, [1, 2, 3, 4, 5], { chunksize: 1 })
      yield* Effect.exit(ProcessPool.run(T.checked, 1000))
      const slow = yield* ProcessPool.submit(T.sleepPid, 60_000)
      yield* Effect.sleep(300)
      yield* Fiber.interrupt(slow)
      yield* Effect.exit(ProcessPool.run(T.exit, 1))
      assert.strictEqual(yield* counter("process_pool_tasks_submitted", "square"), 5)
      assert.strictEqual(yield* counter("process_pool_tasks_completed", "square"), 5)
      assert.strictEqual(yield* counter("process_pool_tasks_failed", "checked"), 1)
      assert.strictEqual(yield* counter("process_pool_tasks_interrupted", "sleepPid"), 1)
      assert.strictEqual(yield* counter("process_pool_tasks_failed", "exit"), 1)
      assert.strictEqual(yield* counter("process_pool_worker_crashes"), 1)
      assert.isAtLeast(yield* counter("process_pool_worker_starts"), 2)
      const stats = yield* ProcessPool.stats
      assert.strictEqual(stats.completed, yield* counter("process_pool_tasks_completed"))
      assert.strictEqual(stats.failed, yield* counter("process_pool_tasks_failed"))
      assert.strictEqual(stats.crashed, yield* counter("process_pool_worker_crashes"))
      // histograms: one observation per job
      assert.strictEqual(yield* counter("process_pool_queue_wait_ms", "square"), 5)
      assert.strictEqual(yield* counter("process_pool_run_ms", "square"), 5)
      // gauges exist and read the pool now: nothing queued, nothing busy
      const gauges = (yield* Metric.snapshot).filter((s) => s.type === "Gauge")
      assert.deepStrictEqual(gauges.map((g) => [g.id, (g.state as { value: number }).value]).sort(), [
        ["process_pool_busy_workers", 0],
        ["process_pool_queue_depth", 0]
      ])
    }).pipe(
      Effect.provide(ProcessPool.layer({ maxWorkers: 2 })),
      Effect.provideService(Metric.MetricRegistry, new Map())
    )
  )

  it.live("count recycled workers", () =>
    Effect.gen(function* () {
      for (let i = 0; i < 4; i++) yield* ProcessPool.run(T.square, i)
      assert.strictEqual(yield* counter("process_pool_worker_recycles"), 2)
      // each replacement starts as its worker is sent its last task, whether more work waits or not
      assert.strictEqual((yield* ProcessPool.stats).restarted, 2)
    }).pipe(
      Effect.provide(ProcessPool.layer({ maxWorkers: 1, maxTasksPerWorker: 2 })),
      Effect.provideService(Metric.MetricRegistry, new Map())
    )
  )
})

describe("tracing crosses the process boundary", () => {
  const memoryTracer = () => {
    const spans: Array<Tracer.NativeSpan> = []
    const tracer = Tracer.make({
      span(options) {
        const span = new Tracer.NativeSpan(options)
        spans.push(span)
        return span
      }
    })
    return { spans, tracer }
  }

  it.live("a task runs in a span in the worker, a child of the caller's span, with task, pid and chunk size", () => {
    const { spans, tracer } = memoryTracer()
    return Effect.gen(function* () {
      const info = yield* ProcessPool.run(O.traced, 1).pipe(Effect.withSpan("caller"))
      const caller = spans.find((s) => s.name === "caller")!
      assert.isNotNull(info)
      assert.strictEqual(info!.name, "ProcessPool.task traced")
      assert.strictEqual(info!.traceId, caller.traceId)
      assert.strictEqual(info!.parentSpanId, caller.spanId)
      assert.strictEqual(info!.attributes["task.name"], "traced")
      if (onProcesses) {
        assert.isNumber(info!.attributes["worker.pid"])
        assert.notStrictEqual(info!.attributes["worker.pid"], process.pid)
      } else {
        assert.isNumber(info!.attributes["worker.thread"])
      }
      assert.strictEqual(info!.attributes["chunk.size"], 1)

      const chunked = yield* ProcessPool.map(O.traced, [1, 2, 3, 4], { chunksize: 4 }).pipe(Effect.withSpan("batch"))
      const batch = spans.find((s) => s.name === "batch")!
      const mapSpan = spans.find((s) => s.name === "ProcessPool.map")!
      assert.strictEqual(mapSpan.traceId, batch.traceId)
      for (const span of chunked) {
        assert.strictEqual(span!.traceId, batch.traceId)
        assert.strictEqual(span!.parentSpanId, mapSpan.spanId)
        assert.strictEqual(span!.attributes["chunk.size"], 4)
      }
      // without a span in the caller, the worker starts none
      assert.isNull(yield* ProcessPool.run(O.traced, 2))
    }).pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 1 })), Effect.provideService(Tracer.Tracer, tracer))
  })

  it.live("the worker's spans go to the tracer of the task's layer, in the caller's trace", () => {
    const { spans, tracer } = memoryTracer()
    return Effect.gen(function* () {
      const recorded = yield* ProcessPool.run(O.tracedWithTracer, 1).pipe(Effect.withSpan("caller"))
      const caller = spans.find((s) => s.name === "caller")!
      const job = recorded.find((s) => s.name === "ProcessPool.task tracedWithTracer")
      const user = recorded.find((s) => s.name === "user work")
      assert.isDefined(job)
      assert.isDefined(user)
      assert.strictEqual(job!.traceId, caller.traceId)
      assert.strictEqual(job!.parentSpanId, caller.spanId)
      assert.strictEqual(user!.traceId, caller.traceId)
    }).pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 1 })), Effect.provideService(Tracer.Tracer, tracer))
  })
})
