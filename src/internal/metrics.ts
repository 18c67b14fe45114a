/**
 * The pool's metrics (Effect `Metric`s), updated where the engine's own
 * counters change, so `stats` and the metrics agree. Counters and histograms
 * of tasks carry the task's name as the attribute `task`; tasks are counted
 * in inputs, as `stats` counts them.
 *
 * Updates are synchronous (`updateUnsafe`) against the context the pool was
 * built in, so a program that provides its own `Metric.MetricRegistry` sees
 * them there. Within one of the engine's turns (a dispatch, a frame of
 * answers, the settling of ended jobs) they are held and applied at its end,
 * before any caller's code runs (see `Recorder.hold`).
 *
 * @internal
 */
import type * as Context from "effect/Context"
import * as Metric from "effect/Metric"

/** Milliseconds, from 0.1 ms to about 30 s, for queue wait and run time. */
const MS_BOUNDARIES = Metric.exponentialBoundaries({ start: 0.1, factor: 2, count: 19 })

/**
 * A metric of tasks: one series per task, with the attribute `task`, each a
 * metric of its own made with that attribute, rather than one metric and
 * `Metric.withAttributes`, whose every update copies the context it is given
 * to add the attribute (a `Context.add`) and so made the metrics a tenth of
 * the parent's CPU per tiny task (4 updates a task; `--cpu-prof`).
 */
export interface TaskMetric<Input> {
  /** the metric with the attribute `task`, made once per name */
  readonly forTask: (task: string) => Metric.Metric<Input, unknown>
}

/** A metric per task name, made once; the last one asked for is kept apart, as a pool's updates come in runs of one task. */
const perTask = (make: (task: string) => Metric.Metric<number, unknown>): TaskMetric<number> => {
  const byTask = new Map<string, Metric.Metric<number, unknown>>()
  let lastTask: string | undefined
  let last: Metric.Metric<number, unknown> | undefined
  return {
    forTask: (task) => {
      if (task === lastTask) return last!
      let metric = byTask.get(task)
      if (metric === undefined) byTask.set(task, (metric = make(task)))
      lastTask = task
      last = metric
      return metric
    }
  }
}

const taskCounter = (name: string, description: string): TaskMetric<number> =>
  perTask((task) => Metric.counter(name, { description, incremental: true, attributes: { task } }))

const taskHistogram = (name: string, description: string): TaskMetric<number> =>
  perTask((task) => Metric.histogram(name, { description, boundaries: MS_BOUNDARIES, attributes: { task } }))

export const tasksSubmitted = taskCounter("process_pool_tasks_submitted", "inputs handed to the pool")
export const tasksCompleted = taskCounter("process_pool_tasks_completed", "inputs that succeeded")
export const tasksFailed = taskCounter(
  "process_pool_tasks_failed",
  "inputs that failed: typed errors, defects, pool errors"
)
export const tasksInterrupted = taskCounter(
  "process_pool_tasks_interrupted",
  "inputs interrupted (cancelled) before they finished"
)
export const queueDepth = Metric.gauge("process_pool_queue_depth", {
  description: "inputs not started yet: in the parent's queue or taken ahead by a worker"
})
export const busyWorkers = Metric.gauge("process_pool_busy_workers", { description: "workers running a task" })
export const queueWait = taskHistogram(
  "process_pool_queue_wait_ms",
  "from a job's submission to its sending to a worker, in ms"
)
export const admissionWait = taskHistogram(
  "process_pool_admission_wait_ms",
  "with `maxQueue`: how long a call waited for room before its job joined the queue, in ms"
)
export const runTime = taskHistogram("process_pool_run_ms", "a job's time in its worker, round trip included, in ms")
export const workerStarts = Metric.counter("process_pool_worker_starts", {
  description: "worker processes started",
  incremental: true
})
export const workerCrashes = Metric.counter("process_pool_worker_crashes", {
  description: "workers that died unexpectedly",
  incremental: true
})
export const workerRecycles = Metric.counter("process_pool_worker_recycles", {
  description: "workers replaced after maxTasksPerWorker or maxWorkerMemory",
  incremental: true
})

export const messagesDropped = Metric.counter("process_pool_messages_dropped", {
  description: "records or bytes on a worker's channel that were not the protocol's, dropped",
  incremental: true
})

/** The pool's metric updates, bound to the context it was built in. */
export interface Recorder {
  readonly tasks: (
    metric: typeof tasksSubmitted | typeof tasksCompleted | typeof tasksFailed | typeof tasksInterrupted,
    task: string,
    n: number
  ) => void
  readonly timing: (metric: typeof queueWait | typeof admissionWait | typeof runTime, task: string, ms: number) => void
  readonly gauge: (metric: typeof queueDepth | typeof busyWorkers, value: number) => void
  readonly workers: (
    metric: typeof workerStarts | typeof workerCrashes | typeof workerRecycles | typeof messagesDropped
  ) => void
  /**
   * Holds the updates that follow until the matching `release`, which applies
   * them: a counter's increments as one, a gauge's last value, a histogram's
   * samples with its series looked up once. The engine holds them for a turn
   * that runs no caller's code, so nothing can read a metric before they are
   * applied. Holds nest.
   */
  readonly hold: () => void
  readonly release: () => void
}

/** A metric's series, as Effect 4.1's metrics keep it: its registry is looked up by every `updateUnsafe`. */
interface WithHooks {
  readonly hook?: (context: Context.Context<never>) => { readonly update: (input: number, context: unknown) => void }
}

export const recorder = (context: Context.Context<never>): Recorder => {
  // the registry is the program's (a `Metric.MetricRegistry` it provides): a
  // failing update must not stop the engine, which calls these in its loops
  const apply = <I>(metric: Metric.Metric<I, any>, input: I) => {
    try {
      metric.updateUnsafe(input, context)
    } catch {
      // a metric lost; the pool's own counters (stats) still hold
    }
  }
  // Held updates. Measured (npm run bench:parent-cost): the pool's five
  // updates of a tiny task cost ~0.37 µs of its ~1.7 µs in the parent, half
  // of it in finding the series (attributes, registry) for each update.
  let held = 0
  const counts = new Map<Metric.Metric<number, unknown>, number>()
  const gauges = new Map<Metric.Metric<number, unknown>, number>()
  const samples: Array<Metric.Metric<number, unknown>> = []
  const inputs: Array<number> = []
  const update = (metric: Metric.Metric<number, unknown>, input: number) => {
    if (held === 0) return apply(metric, input)
    if (metric.type === "Counter") counts.set(metric, (counts.get(metric) ?? 0) + input)
    else if (metric.type === "Gauge") gauges.set(metric, input)
    else {
      samples.push(metric)
      inputs.push(input)
    }
  }
  /** A histogram's samples in a row: its series found once (through `updateUnsafe` where Effect has no `hook`). */
  const applySamples = (metric: Metric.Metric<number, unknown>, from: number, to: number) => {
    let hooks: ReturnType<NonNullable<WithHooks["hook"]>> | undefined
    try {
      hooks = (metric as WithHooks).hook?.(context)
    } catch {
      hooks = undefined
    }
    for (let i = from; i < to; i++) {
      if (hooks === undefined) apply(metric, inputs[i]!)
      else
        try {
          hooks.update(inputs[i]!, context)
        } catch {
          // as in `apply`
        }
    }
  }
  const flush = () => {
    for (const [metric, n] of counts) apply(metric, n)
    for (const [metric, value] of gauges) apply(metric, value)
    counts.clear()
    gauges.clear()
    for (let i = 0; i < samples.length; ) {
      let j = i + 1
      while (j < samples.length && samples[j] === samples[i]) j++
      applySamples(samples[i]!, i, j)
      i = j
    }
    samples.length = 0
    inputs.length = 0
  }
  return {
    tasks: (metric, task, n) => {
      if (n > 0) update(metric.forTask(task), n)
    },
    timing: (metric, task, ms) => update(metric.forTask(task), ms),
    gauge: (metric, value) => update(metric, value),
    workers: (metric) => update(metric, 1),
    hold: () => {
      held++
    },
    release: () => {
      if (held > 0 && --held === 0) flush()
    }
  }
}

/** `f` with the recorder's updates held while it runs (see `Recorder.hold`): an engine's turn. */
export const holding =
  <A extends ReadonlyArray<unknown>>(recorder: Recorder, f: (...args: A) => void) =>
  (...args: A): void => {
    recorder.hold()
    try {
      f(...args)
    } finally {
      recorder.release()
    }
  }

/** For an engine without metrics (tests of the engine alone). */
export const noRecorder: Recorder = {
  tasks: () => {},
  timing: () => {},
  gauge: () => {},
  workers: () => {},
  hold: () => {},
  release: () => {}
}
