/**
 * The targets of issue #19 ("Worker threads behind the same API"), computed
 * from one run's cells as ratios of medians, so that each can be quoted from
 * one run on one machine. A pure function of the cells; bench/report.ts prints
 * them. A target whose cells did not run (BENCH_ONLY) or failed is "not
 * measured".
 */
import type { CellConfig } from "./kit.ts"
import type { Cell } from "./report.ts"

export interface Target {
  readonly target: string
  /** the goal, as the issue states it: "≥ 0.5×" */
  readonly goal: string
  readonly measured: string
  readonly status: "met" | "not met" | "not measured"
  /** the two figures the ratio divides, for quoting */
  readonly from: string
}

const median = (cell: Cell | undefined, key: string): number | undefined => {
  const m = cell?.status === "ok" ? cell.result?.metrics[key] : undefined
  return m === undefined || !Number.isFinite(m.median) ? undefined : m.median
}

const fmt = (n: number, digits: number) =>
  n.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits })

/** The one cell of `workload` that `pick` chooses. */
type Pick = (c: Cell, config: CellConfig) => boolean

const find = (cells: ReadonlyArray<Cell>, workload: number, pick: Pick): Cell | undefined =>
  cells.find((c) => c.workload === workload && pick(c, c.config))

const threads: Pick = (c, k) => c.impl === "ours" && k.workerType === "thread" && k.interruptGrace === undefined
const processes: Pick = (c, k) => c.impl === "ours" && k.workerType !== "thread" && k.interruptGrace === undefined
const floor: Pick = (c, k) => c.impl === "floor" && k.floorImports !== "effect"
const threadFloor: Pick = (c, k) => c.impl === "thread-floor" && (k.floorImports ?? "bare") === "bare"
const threadFloorEffect: Pick = (c, k) => c.impl === "thread-floor" && k.floorImports === "effect"
const piscina: Pick = (c) => c.impl === "piscina"
const channel =
  (name: CellConfig["channel"]): Pick =>
  (c, k) =>
    c.impl === "ours" && k.workerType !== "thread" && k.channel === name

interface Spec {
  readonly target: string
  readonly workload: number
  /** the metric of both cells */
  readonly key: string
  /** the cell measured, and the one it is divided by (none: the figure itself is the measure) */
  readonly of: Pick
  readonly over?: Pick
  /** times: the baseline's ÷ the cell's, "faster by" */
  readonly inverse?: boolean
  /** the figures' unit and digits, in `from` */
  readonly unit: string
  readonly digits: number
  readonly atLeast?: number
  readonly atMost?: number
}

/** 1,000,000 → "1M", 100,000 → "100k" */
const short = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n))

const specs = (config: CellConfig): ReadonlyArray<Spec> => [
  {
    target: "1. tiny tasks, chunksize 1: threads ÷ thread floor",
    workload: 1,
    key: "rate",
    of: threads,
    over: threadFloor,
    unit: "tasks/s",
    digits: 0,
    atLeast: 0.5
  },
  {
    target: "1. tiny tasks, chunksize 1: threads ÷ piscina",
    workload: 1,
    key: "rate",
    of: threads,
    over: piscina,
    unit: "tasks/s",
    digits: 0,
    atLeast: 2
  },
  {
    target: "1. tiny tasks, chunksize 1: processes ÷ floor",
    workload: 1,
    key: "rate",
    of: processes,
    over: floor,
    unit: "tasks/s",
    digits: 0,
    atLeast: 0.8
  },
  {
    target: `2. ${short(config.bulkInputs)} tiny tasks, "auto": threads ÷ thread floor at its best batching`,
    workload: 2,
    key: "rate",
    of: threads,
    over: threadFloor,
    unit: "tasks/s",
    digits: 0,
    atLeast: 0.8
  },
  {
    target: `3. CPU speedup on ${config.workers} workers: threads`,
    workload: 3,
    key: "speedup",
    of: threads,
    unit: "",
    digits: 2,
    atLeast: 1.9
  },
  {
    target: `3. CPU speedup on ${config.workers} workers: processes`,
    workload: 3,
    key: "speedup",
    of: processes,
    unit: "",
    digits: 2,
    atLeast: 1.9
  },
  {
    target: "4. new pool to first result: threads ÷ a bare thread that imports effect",
    workload: 4,
    key: "ms",
    of: threads,
    over: threadFloorEffect,
    unit: "ms",
    digits: 0,
    atMost: 1.1
  },
  {
    target: "6a. idle memory per worker: thread ÷ process",
    workload: 6,
    key: "workerRss",
    of: (c, k) => threads(c, k) && c.cell === "idleRss",
    over: (c, k) => processes(c, k) && c.cell === "idleRss",
    unit: "MB",
    digits: 1,
    atMost: 0.5
  },
  {
    target: `7. ${config.bytesSize / 1024 / 1024} MiB round trip: threads faster than processes, "json"`,
    workload: 7,
    key: "ms",
    of: threads,
    over: channel("json"),
    inverse: true,
    unit: "ms",
    digits: 0,
    atLeast: 5
  },
  {
    target: `7. ${config.bytesSize / 1024 / 1024} MiB round trip: "advanced" faster than "advanced" before`,
    workload: 7,
    key: "ms",
    of: channel("advanced"),
    over: channel("advanced-json"),
    inverse: true,
    unit: "ms",
    digits: 0,
    atLeast: 2
  }
]

const evaluate = (cells: ReadonlyArray<Cell>, spec: Spec): Target => {
  const goal =
    spec.atLeast !== undefined
      ? `≥ ${fmt(spec.atLeast, 1)}${spec.over === undefined ? "" : "×"}`
      : `≤ ${fmt(spec.atMost!, 1)}×`
  const value = median(find(cells, spec.workload, spec.of), spec.key)
  const base = spec.over === undefined ? 1 : median(find(cells, spec.workload, spec.over), spec.key)
  if (value === undefined || base === undefined || value === 0 || base === 0) {
    return { target: spec.target, goal, measured: "–", status: "not measured", from: "" }
  }
  const measure = spec.over === undefined ? value : spec.inverse ? base / value : value / base
  const met =
    (spec.atLeast === undefined || measure >= spec.atLeast) && (spec.atMost === undefined || measure <= spec.atMost)
  const unit = spec.unit === "" ? "" : ` ${spec.unit}`
  return {
    target: spec.target,
    goal,
    measured: `${fmt(measure, 2)}${spec.over === undefined ? "" : "×"}`,
    status: met ? "met" : "not met",
    from:
      spec.over === undefined
        ? `${fmt(value, spec.digits)}${unit}`
        : spec.inverse
          ? `${fmt(base, spec.digits)} ÷ ${fmt(value, spec.digits)}${unit}`
          : `${fmt(value, spec.digits)} ÷ ${fmt(base, spec.digits)}${unit}`
  }
}

export const targetsOf = (cells: ReadonlyArray<Cell>): Array<Target> => {
  const config = cells[0]?.config
  return config === undefined ? [] : specs(config).map((spec) => evaluate(cells, spec))
}
