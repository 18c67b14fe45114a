/**
 * The streaming task of bench/stream.ts: `count` elements (see elements.ts),
 * and every `probeEvery`-th one carries the worker's own memory, so the bench
 * can watch both sides over a long stream.
 */
import * as NodeV8 from "node:v8"
import * as NodeWorkerThreads from "node:worker_threads"
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
