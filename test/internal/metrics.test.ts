/**
 * The recorder's held updates (src/internal/metrics.ts): what an engine's turn
 * records is applied at its end, as one update of each counter, a gauge's last
 * value and every sample of a histogram; a registry that throws loses metrics
 * and nothing else.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Metric } from "effect"
import * as Metrics from "../../src/internal/metrics.ts"

const registryContext = (registry: Map<string, any> = new Map()) => Context.make(Metric.MetricRegistry, registry)

/** The state of metric `id` of task `task` (or without attributes), as the program reads it. */
const stateOf = (context: Context.Context<never>, id: string, task?: string) =>
  Metric.snapshotUnsafe(context).find((s) => s.id === id && (task === undefined || s.attributes?.task === task))
    ?.state as { count?: number; value?: number; sum?: number; min?: number; max?: number } | undefined

describe("Recorder", () => {
  it("applies updates at once outside a hold", () => {
    const context = registryContext()
    const recorder = Metrics.recorder(context)
    recorder.tasks(Metrics.tasksSubmitted, "t", 2)
    assert.strictEqual(stateOf(context, "process_pool_tasks_submitted", "t")?.count, 2)
  })

  it("holds updates until the outermost release: counters summed, a gauge's last value, every sample", () => {
    const context = registryContext()
    const recorder = Metrics.recorder(context)
    recorder.hold()
    recorder.hold()
    for (let i = 0; i < 3; i++) recorder.tasks(Metrics.tasksCompleted, "t", 2)
    recorder.tasks(Metrics.tasksCompleted, "u", 1)
    for (const ms of [1, 5, 3]) recorder.timing(Metrics.runTime, "t", ms)
    recorder.timing(Metrics.runTime, "u", 7)
    recorder.timing(Metrics.runTime, "t", 9)
    recorder.gauge(Metrics.queueDepth, 4)
    recorder.gauge(Metrics.queueDepth, 1)
    recorder.workers(Metrics.workerStarts)
    recorder.release()
    assert.isUndefined(stateOf(context, "process_pool_tasks_completed", "t"), "held by the outer hold")
    recorder.release()
    assert.strictEqual(stateOf(context, "process_pool_tasks_completed", "t")?.count, 6)
    assert.strictEqual(stateOf(context, "process_pool_tasks_completed", "u")?.count, 1)
    const t = stateOf(context, "process_pool_run_ms", "t")
    assert.deepStrictEqual([t?.count, t?.sum, t?.min, t?.max], [4, 18, 1, 9])
    assert.strictEqual(stateOf(context, "process_pool_run_ms", "u")?.count, 1)
    assert.strictEqual(stateOf(context, "process_pool_queue_depth")?.value, 1)
    assert.strictEqual(stateOf(context, "process_pool_worker_starts")?.count, 1)
    // released: the next update is at once again
    recorder.tasks(Metrics.tasksCompleted, "t", 1)
    assert.strictEqual(stateOf(context, "process_pool_tasks_completed", "t")?.count, 7)
  })

  it("a registry that throws loses the metrics, held or not, and nothing else", () => {
    const broken = new (class extends Map<string, any> {
      override get(): never {
        throw new Error("a program's broken registry")
      }
    })()
    const recorder = Metrics.recorder(registryContext(broken))
    recorder.tasks(Metrics.tasksSubmitted, "t", 1)
    recorder.hold()
    recorder.tasks(Metrics.tasksCompleted, "t", 1)
    recorder.timing(Metrics.runTime, "t", 1)
    recorder.gauge(Metrics.busyWorkers, 1)
    assert.doesNotThrow(() => recorder.release())
  })
})
