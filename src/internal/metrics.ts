/**
 * The pool's metrics (Effect `Metric`s), updated where the engine's own
 * counters change, so `stats` and the metrics agree. Counters and histograms
 * of tasks carry the task's name as the attribute `task`; tasks are counted
 * in inputs, as `stats` counts them.
 *
 * Updates are synchronous (`updateUnsafe`) against the context the pool was
 * built in, so a program that provides its own `Metric.MetricRegistry` sees
 * them there.
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
  readonly forTask: (task: string) => Metric.Metric<Input, unknown>
}

const taskCounter = (name: string, description: string): TaskMetric<number> => ({
  forTask: (task) => Metric.counter(name, { description, incremental: true, attributes: { task } })
})

const taskHistogram = (name: string, description: string): TaskMetric<number> => ({
  forTask: (task) => Metric.histogram(name, { description, boundaries: MS_BOUNDARIES, attributes: { task } })
})

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
}

export const recorder = (context: Context.Context<never>): Recorder => {
  const byTask = new Map<TaskMetric<number>, Map<string, Metric.Metric<number, unknown>>>()
  const tagged = (metric: TaskMetric<number>, task: string): Metric.Metric<number, unknown> => {
    let perTask = byTask.get(metric)
    if (perTask === undefined) byTask.set(metric, (perTask = new Map()))
    let withTask = perTask.get(task)
    if (withTask === undefined) perTask.set(task, (withTask = metric.forTask(task)))
    return withTask
  }
  // the registry is the program's (a `Metric.MetricRegistry` it provides): a
  // failing update must not stop the engine, which calls these in its loops
  const update = <I>(metric: Metric.Metric<I, any>, input: I) => {
    try {
      metric.updateUnsafe(input, context)
    } catch {
      // a metric lost; the pool's own counters (stats) still hold
    }
  }
  return {
    tasks: (metric, task, n) => {
      if (n > 0) update(tagged(metric, task), n)
    },
    timing: (metric, task, ms) => update(tagged(metric, task), ms),
    gauge: (metric, value) => update(metric, value),
    workers: (metric) => update(metric, 1)
  }
}

/** For an engine without metrics (tests of the engine alone). */
export const noRecorder: Recorder = { tasks: () => {}, timing: () => {}, gauge: () => {}, workers: () => {} }
