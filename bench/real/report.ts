/**
 * Rendering bench/real.ts's results: a table per workload, for the console
 * and for bench/REAL-RESULTS.md, with each figure's ratio to the sequential
 * (or inline) row and to piscina's. Pure functions of the results; the table
 * format is bench/report.ts's.
 */
import { median } from "../measure.ts"
import { consoleTable, markdownTable, num, type Table } from "../report.ts"
import type { HttpRound } from "./http.ts"
import type { Impl } from "./impls.ts"

/** Workload 1: one cell per implementation, each run's wall time. */
export interface WarmRow {
  readonly impl: Impl
  readonly ms?: ReadonlyArray<number>
  readonly chars?: number
  readonly error?: string
  readonly leftovers: number
}

/** Workload 2: one fresh process per implementation and round. */
export interface ColdRow {
  readonly impl: Impl
  /** one per timed round, undefined where that round failed */
  readonly rounds: ReadonlyArray<{ readonly inProgramMs: number; readonly wholeMs: number } | undefined>
  readonly errors: ReadonlyArray<string>
  readonly leftovers: number
}

/** Workload 3: one fresh server per implementation and round. */
export interface HttpRow {
  readonly impl: Impl
  readonly rounds: ReadonlyArray<HttpRound | undefined>
  readonly errors: ReadonlyArray<string>
  readonly leftovers: number
}

const ms = (x: number | undefined, digits = 0) => (x === undefined || !Number.isFinite(x) ? "–" : num(x, digits))
/** An autocannon latency: it records whole milliseconds, so 0 means under 1 ms. */
const latency = (x: number | undefined, digits = 0) => (x === 0 ? "<1" : ms(x, digits))
const times = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? "–" : `${num(x, 2)}×`)
const medianOf = (xs: ReadonlyArray<number | undefined>): number | undefined => {
  const present = xs.filter((x): x is number => x !== undefined && Number.isFinite(x))
  return present.length === 0 ? undefined : median(present)
}
/** Half the range of the samples, relative to their median. */
const spread = (xs: ReadonlyArray<number> | undefined): string => {
  if (xs === undefined || xs.length < 2) return ""
  const m = median(xs)
  return m === 0 ? "" : `±${num(((Math.max(...xs) - Math.min(...xs)) / 2 / m) * 100)}%`
}
const notes = (errors: ReadonlyArray<string>, leftovers: number): string =>
  [
    ...errors.map((e) => (e.length > 160 ? `${e.slice(0, 157)}…` : e)),
    ...(leftovers > 0 ? [`**left ${leftovers} process(es) behind**`] : [])
  ].join("; ")

const isSequential = (impl: Impl) => impl.kind === "sequential"
const isPiscina = (impl: Impl) => impl.kind === "piscina"

export const warmTable = (rows: ReadonlyArray<WarmRow>, title: string): Table => {
  const wall = (r: WarmRow | undefined) => (r?.ms === undefined ? undefined : median(r.ms))
  const sequential = wall(rows.find((r) => isSequential(r.impl)))
  const piscina = wall(rows.find((r) => isPiscina(r.impl)))
  return {
    title,
    header: ["implementation", "wall (ms)", "speedup over sequential", "× piscina's wall", "spread", "runs", "notes"],
    numeric: [false, true, true, true, true, true, false],
    rows: rows.map((r) => {
      const w = wall(r)
      return [
        r.impl.label,
        r.error !== undefined ? "failed" : ms(w),
        w === undefined || sequential === undefined ? "–" : times(sequential / w),
        w === undefined || piscina === undefined ? "–" : times(w / piscina),
        spread(r.ms),
        String(r.ms?.length ?? 0),
        notes(r.error === undefined ? [] : [r.error], r.leftovers)
      ]
    })
  }
}

/** The ratio of `row`'s figure to `base`'s, round by round (pairs run one after the other), then the median. */
const pairedRatio = (row: ColdRow, base: ColdRow | undefined, key: "inProgramMs" | "wholeMs"): number | undefined =>
  base === undefined
    ? undefined
    : medianOf(
        row.rounds.map((r, i) => {
          const b = base.rounds[i]
          return r === undefined || b === undefined ? undefined : r[key] / b[key]
        })
      )

export const coldTable = (rows: ReadonlyArray<ColdRow>, title: string): Table => {
  const sequential = rows.find((r) => isSequential(r.impl))
  const piscina = rows.find((r) => isPiscina(r.impl))
  return {
    title,
    header: [
      "implementation",
      "in the program (ms)",
      "× sequential",
      "× piscina",
      "whole process (ms)",
      "× sequential",
      "× piscina",
      "runs",
      "notes"
    ],
    numeric: [false, true, true, true, true, true, true, true, false],
    rows: rows.map((r) => [
      r.impl.label,
      ms(medianOf(r.rounds.map((x) => x?.inProgramMs))),
      times(pairedRatio(r, sequential, "inProgramMs")),
      times(pairedRatio(r, piscina, "inProgramMs")),
      ms(medianOf(r.rounds.map((x) => x?.wholeMs))),
      times(pairedRatio(r, sequential, "wholeMs")),
      times(pairedRatio(r, piscina, "wholeMs")),
      String(r.rounds.filter((x) => x !== undefined).length),
      notes(r.errors, r.leftovers)
    ])
  }
}

/** The median over rounds of a figure of a round. */
const over = (row: HttpRow | undefined, f: (round: HttpRound) => number): number | undefined =>
  row === undefined ? undefined : medianOf(row.rounds.map((r) => (r === undefined ? undefined : f(r))))

/** Round by round, `f(row) - f(base)` (or the ratio), then the median. */
const pairedHttp = (
  row: HttpRow,
  base: HttpRow | undefined,
  f: (round: HttpRound) => number,
  how: "difference" | "ratio"
): number | undefined =>
  base === undefined
    ? undefined
    : medianOf(
        row.rounds.map((r, i) => {
          const b = base.rounds[i]
          if (r === undefined || b === undefined) return undefined
          return how === "difference" ? f(r) - f(b) : f(r) / f(b)
        })
      )

const failures = (s: HttpRound["one"]) => s.errors + s.timeouts + s.non2xx

export const httpTables = (
  rows: ReadonlyArray<HttpRow>,
  titles: { readonly one: string; readonly many: string; readonly health: string }
): Array<Table> => {
  const inline = rows.find((r) => isSequential(r.impl))
  const piscina = rows.find((r) => isPiscina(r.impl))
  const label = (r: HttpRow) => (isSequential(r.impl) ? "inline (rendered on the event loop)" : r.impl.label)
  const runs = (r: HttpRow) => String(r.rounds.filter((x) => x !== undefined).length)
  const rowNotes = (r: HttpRow) => {
    const extra: Array<string> = []
    const failed = over(r, (x) => failures(x.one) + failures(x.many) + failures(x.health))
    if (failed !== undefined && failed > 0) extra.push(`${num(failed)} errors, timeouts or non-2xx a round`)
    if (r.rounds.some((x) => x?.stop === "killed")) extra.push("**a server did not stop on SIGTERM and was killed**")
    return notes([...r.errors, ...extra], r.leftovers)
  }
  const mean = (x: HttpRound) => x.one.latency.mean
  return [
    {
      title: titles.one,
      header: [
        "server",
        "mean (ms)",
        "p50 (ms)",
        "p99 (ms)",
        "overhead over inline (ms)",
        "× inline",
        "× piscina",
        "req/s",
        "rounds",
        "notes"
      ],
      numeric: [false, true, true, true, true, true, true, true, true, false],
      rows: rows.map((r) => [
        label(r),
        ms(over(r, mean), 2),
        latency(over(r, (x) => x.one.latency.p50)),
        latency(over(r, (x) => x.one.latency.p99)),
        isSequential(r.impl) ? "" : ms(pairedHttp(r, inline, mean, "difference"), 2),
        times(pairedHttp(r, inline, mean, "ratio")),
        times(pairedHttp(r, piscina, mean, "ratio")),
        ms(
          over(r, (x) => x.one.requests.average),
          1
        ),
        runs(r),
        rowNotes(r)
      ])
    },
    {
      title: titles.many,
      header: ["server", "req/s", "× inline", "× piscina", "p50 (ms)", "p99 (ms)", "p99 × piscina", "rounds", "notes"],
      numeric: [false, true, true, true, true, true, true, true, false],
      rows: rows.map((r) => [
        label(r),
        ms(
          over(r, (x) => x.many.requests.average),
          1
        ),
        times(pairedHttp(r, inline, (x) => x.many.requests.average, "ratio")),
        times(pairedHttp(r, piscina, (x) => x.many.requests.average, "ratio")),
        latency(over(r, (x) => x.many.latency.p50)),
        latency(over(r, (x) => x.many.latency.p99)),
        times(pairedHttp(r, piscina, (x) => x.many.latency.p99, "ratio")),
        runs(r),
        rowNotes(r)
      ])
    },
    {
      title: titles.health,
      header: ["server", "mean (ms)", "p50 (ms)", "p99 (ms)", "max (ms)", "probes", "rounds", "notes"],
      numeric: [false, true, true, true, true, true, true, false],
      rows: rows.map((r) => {
        // a round whose prober got no answer at all has no latency to give: its probes waited longer than the phase
        const probed = (f: (l: HttpRound["health"]["latency"]) => number) =>
          over(r, (x) => (x.health.latency.totalCount === 0 ? Number.NaN : f(x.health.latency)))
        const silent = r.rounds.filter((x) => x !== undefined && x.health.latency.totalCount === 0).length
        return [
          label(r),
          latency(
            probed((l) => l.mean),
            1
          ),
          latency(probed((l) => l.p50)),
          latency(probed((l) => l.p99)),
          latency(probed((l) => l.max)),
          ms(over(r, (x) => x.health.latency.totalCount)),
          runs(r),
          [rowNotes(r), silent > 0 ? `no probe answered within the phase in ${silent} round(s)` : ""]
            .filter((n) => n !== "")
            .join("; ")
        ]
      })
    }
  ]
}

export { consoleTable, markdownTable }
