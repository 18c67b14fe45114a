/**
 * The implementations that bench/real.ts measures, one column each, in every
 * workload: the sequential baseline (for the HTTP workload, the render inline
 * on the server's event loop), our pool with the options given, and piscina.
 * Another configuration of ours is one more entry with its `poolOptions`.
 */

export interface Impl {
  /** names the row; unique */
  readonly id: string
  /** which program runs it: the job and the server have one variant per kind */
  readonly kind: "sequential" | "ours" | "piscina"
  readonly label: string
  /** ours: options added to the pool's (`maxWorkers` is the harness's) */
  readonly poolOptions?: Record<string, unknown>
}

/** Ours on worker threads, piscina's kind of worker. */
const oursThreads: Impl = {
  id: "ours-thread",
  kind: "ours",
  label: 'effect-process-pool, workerType "thread"',
  poolOptions: { workerType: "thread" }
}

export const IMPLS: ReadonlyArray<Impl> = [
  { id: "sequential", kind: "sequential", label: "sequential (no pool)" },
  { id: "ours", kind: "ours", label: "effect-process-pool (processes)", poolOptions: {} },
  oursThreads,
  { id: "piscina", kind: "piscina", label: "piscina (worker threads)" }
]
