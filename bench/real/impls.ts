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
  /**
   * ours: options added to the pool's (`maxWorkers` is the harness's);
   * piscina: `{ workerImports: "effect" }` for a worker file that imports
   * effect's modules first (bench/real/piscinaEffectWorker.ts)
   */
  readonly poolOptions?: Record<string, unknown>
  /** the workloads it runs in; all when left out */
  readonly workloads?: ReadonlyArray<1 | 2 | 3>
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
  { id: "piscina", kind: "piscina", label: "piscina (worker threads)" },
  /**
   * Where start-up goes: piscina whose threads load what a task module
   * written with Effect's Schema loads in each of ours (`effect/Effect`,
   * `effect/Schema`), beside the same render.
   */
  {
    id: "piscina-effect",
    kind: "piscina",
    label: "piscina, its worker file importing effect/Effect and effect/Schema",
    poolOptions: { workerImports: "effect" },
    workloads: [2]
  }
]

/** The implementations that run in `workload`. */
export const implsOf = (workload: 1 | 2 | 3): ReadonlyArray<Impl> =>
  IMPLS.filter((impl) => impl.workloads === undefined || impl.workloads.includes(workload))
