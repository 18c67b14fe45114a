/**
 * The streaming task of bench/stream.ts: `count` elements (see elements.ts),
 * and every `probeEvery`-th one carries the worker's own memory, so the bench
 * can watch both sides over a long stream.
 */
import * as NodeV8 from "node:v8"
import * as NodeWorkerThreads from "node:worker_threads"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Task from "effect-process-pool/Task"
import { element } from "./elements.ts"

export const records = Task.makeStream("records", {
  module: import.meta.url,
  payload: Schema.Struct({ count: Schema.Number, probeEvery: Schema.Number }),
  element: Schema.Struct({
    i: Schema.Number,
    s: Schema.String,
    /** the worker's memory, on probe elements: V8 heap used, and RSS for a process */
    heap: Schema.optionalKey(Schema.Number),
    rss: Schema.optionalKey(Schema.Number)
  }),
  run: ({ count, probeEvery }) =>
    Stream.range(0, count - 1).pipe(
      Stream.map((i) =>
        i % probeEvery === probeEvery - 1
          ? {
              ...element(i),
              heap: NodeV8.getHeapStatistics().used_heap_size,
              ...(NodeWorkerThreads.isMainThread ? { rss: process.memoryUsage.rss() } : {})
            }
          : element(i)
      )
    )
})

/**
 * `count` elements, one every `everyMs`: each carries when it was emitted
 * (`performance.timeOrigin + performance.now()`, a clock the parent shares),
 * so the parent can see how long a lone element took to reach it.
 */
export const ticks = Task.makeStream("ticks", {
  module: import.meta.url,
  payload: Schema.Struct({ count: Schema.Number, everyMs: Schema.Number }),
  element: Schema.Struct({ at: Schema.Number }),
  run: ({ count, everyMs }) =>
    Stream.range(1, count).pipe(
      Stream.rechunk(1),
      Stream.mapEffect(() =>
        Effect.as(Effect.sleep(everyMs), null).pipe(
          Effect.map(() => ({ at: performance.timeOrigin + performance.now() }))
        )
      )
    )
})
