/**
 * An idle worker compacts its heap (src/internal/worker/compaction.ts), a
 * thread as a process: what a burst of work grew (V8's young generation,
 * committed pages) is given back half a second after its last job, with no
 * job to prompt a collection. Without it, V8 keeps both while the worker idles.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { ProcessPool } from "../src/index.ts"
import * as H from "./fixtures/heap.ts"
import * as S from "./fixtures/streamTasks.ts"
import { workerType } from "./helpers/kind.ts"

const MB = 1024 * 1024

describe("an idle worker", () => {
  it.live(`gives back the heap a burst of work grew (${workerType})`, () =>
    Effect.gen(function* () {
      yield* ProcessPool.stream(S.countChunked, 300_000).pipe(Stream.runDrain)
      const busy = yield* ProcessPool.run(H.heapHeld, null)
      // compaction comes after 500 ms idle
      yield* Effect.sleep("1500 millis")
      const idle = yield* ProcessPool.run(H.heapHeld, null)
      const shown = (h: typeof busy) => `${Math.round(h.total / MB)} MB committed, young ${Math.round(h.young / MB)} MB`
      const says = `busy: ${shown(busy)}; idle: ${shown(idle)}`
      assert.isBelow(idle.total, busy.total - 16 * MB, says)
      assert.isBelow(idle.young, busy.young, says)
    }).pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 1 })))
  )
})
