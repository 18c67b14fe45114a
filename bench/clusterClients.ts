/**
 * Two clients sharing the same runners (issue #18): each client assumes
 * every runner's full credit (`workers × chunksPerWorker` chunks in flight),
 * and a runner's pool takes their chunks first come, first served. Measured
 * here: the same `asCompleted` of `inputs` by one client alone, then by two
 * clients at once (separate client-only members, as two programs would be).
 *
 * - share: of the inputs completed while both clients had work (until the
 *   first finished), the smaller client's part (fair: 0.5; wanted ≥ 0.4);
 * - together: both clients' inputs per second against one client's alone
 *   (wanted ≥ 0.9×).
 */

import type * as Context from "effect/Context"
import type { Sharding } from "effect/cluster/Sharding"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { ProcessPool } from "effect-process-pool"
import * as Cluster from "effect-process-pool/Cluster"
import { spin } from "../test/fixtures/cluster/tasks.ts"

export interface Sample {
  readonly aloneMs: number
  readonly togetherMs: number
  /** the smaller client's share while both had work */
  readonly share: number
}

/** Completion times (ms since the epoch) of every input, through one client. */
const completions = (inputs: ReadonlyArray<{ i: number; ms: number }>) =>
  ProcessPool.asCompleted(spin, inputs, { chunksize: "auto" }).pipe(
    Stream.map((c) => {
      if (c.exit._tag === "Failure") throw new Error(`input ${c.index} failed`)
      return Date.now()
    }),
    Stream.runCollect
  )

export const twoClients = (
  deployment: string,
  inputs: ReadonlyArray<{ i: number; ms: number }>,
  runs: number,
  shardings: readonly [Context.Context<Sharding>, Context.Context<Sharding>]
) =>
  Effect.gen(function* () {
    const [a, b] = shardings.map((sharding) =>
      Cluster.layerClient({ deployment }).pipe(Layer.provide(Layer.succeedContext(sharding)))
    ) as [Layer.Layer<ProcessPool.ProcessPool>, Layer.Layer<ProcessPool.ProcessPool>]
    const poolA = yield* Layer.build(a)
    const poolB = yield* Layer.build(b)
    const alone = () =>
      Effect.gen(function* () {
        const start = Date.now()
        yield* completions(inputs).pipe(Effect.provide(poolA))
        return Date.now() - start
      })
    const together = () =>
      Effect.gen(function* () {
        const start = Date.now()
        const [doneA, doneB] = yield* Effect.all(
          [completions(inputs).pipe(Effect.provide(poolA)), completions(inputs).pipe(Effect.provide(poolB))],
          { concurrency: 2 }
        )
        const both = Math.min(Math.max(...doneA), Math.max(...doneB))
        const byA = doneA.filter((t) => t <= both).length
        const byB = doneB.filter((t) => t <= both).length
        return { ms: Math.max(...doneA, ...doneB) - start, share: Math.min(byA, byB) / (byA + byB) }
      })
    // warm up both clients (routes learned, workers' modules loaded, JIT warm)
    yield* alone()
    yield* together()
    const samples: Array<Sample> = []
    for (let i = 0; i < runs; i++) {
      const aloneMs = yield* alone()
      const t = yield* together()
      samples.push({ aloneMs, togetherMs: t.ms, share: t.share })
    }
    return samples
  })
