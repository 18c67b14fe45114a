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

/**
 * An implementation's figures over the rounds of a workload: in each round
 * every implementation runs once, one after the other, so that a drift in the
 * machine's speed falls on all of them alike and ratios can be taken round by
 * round.
 */
export interface Row<A> {
  readonly impl: Impl
  /** one per timed round, undefined where that round failed */
  readonly rounds: ReadonlyArray<A | undefined>
  readonly errors: ReadonlyArray<string>
  readonly leftovers: number
}

/** Workload 1: the wall time (ms) of the timed run of a warm pool. */
export type WarmRow = Row<number>

/** Workload 2: one fresh process. */
export type ColdRow = Row<{ readonly inProgramMs: number; readonly wholeMs: number }>

/** Workload 3: one fresh server. */
export type HttpRow = Row<HttpRound>

const ms = (x: number | undefined, digits = 0) => (x === undefined || !Number.isFinite(x) ? "–" : num(x, digits))
/** An autocannon latency: it records whole milliseconds, so 0 means under 1 ms. */
const latency = (x: number | undefined, digits = 0) => (x === 0 ? "<1" : ms(x, digits))
const times = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? "–" : `${num(x, 2)}×`)
const medianOf = (xs: ReadonlyArray<number | undefined>): number | undefined => {
  const present = xs.filter((x): x is number => x !== undefined && Number.isFinite(x))
  return present.length === 0 ? undefined : median(present)
}
/** Half the range of the samples, relative to their median. */
const spread = (xs: ReadonlyArray<number>): string => {
  if (xs.length < 2) return ""
  const m = median(xs)
  return m === 0 ? "" : `±${num(((Math.max(...xs) - Math.min(...xs)) / 2 / m) * 100)}%`
}
const notes = (errors: ReadonlyArray<string>, leftovers: number): string =>
  [
    ...errors.map((e) => e.replace(/\s+/g, " ").trim()).map((e) => (e.length > 160 ? `${e.slice(0, 157)}…` : e)),
    ...(leftovers > 0 ? [`**left ${leftovers} process(es) behind**`] : [])
  ].join("; ")

/** The median over rounds of a figure of a round. */
const over = <A>(row: Row<A> | undefined, f: (a: A) => number): number | undefined =>
  row === undefined ? undefined : medianOf(row.rounds.map((r) => (r === undefined ? undefined : f(r))))

/** Round by round, `f(row) / f(base)` (or the difference), then the median. */
const paired = <A>(
  row: Row<A>,
  base: Row<A> | undefined,
  f: (a: A) => number,
  how: "ratio" | "difference" = "ratio"
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

/** The samples of a figure over the rounds. */
const samples = <A>(row: Row<A>, f: (a: A) => number): Array<number> =>
  row.rounds.filter((r): r is A => r !== undefined).map(f)

const isSequential = (impl: Impl) => impl.kind === "sequential"
/** the baseline of "× piscina": piscina as its README shows, not the row with effect in its threads */
const isPiscina = (impl: Impl) => impl.id === "piscina"

export const warmTable = (rows: ReadonlyArray<WarmRow>, title: string): Table => {
  const sequential = rows.find((r) => isSequential(r.impl))
  const piscina = rows.find((r) => isPiscina(r.impl))
  const wall = (x: number) => x
  return {
    title,
    header: ["implementation", "wall (ms)", "speedup over sequential", "wall × piscina's", "spread", "runs", "notes"],
    numeric: [false, true, true, true, true, true, false],
    rows: rows.map((r) => {
      const speedup = sequential === undefined ? undefined : paired(sequential, r, wall)
      return [
        r.impl.label,
        ms(over(r, wall)),
        times(speedup),
        times(paired(r, piscina, wall)),
        spread(samples(r, wall)),
        String(samples(r, wall).length),
        notes(r.errors, r.leftovers)
      ]
    })
  }
}

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
      ms(over(r, (x) => x.inProgramMs)),
      times(paired(r, sequential, (x) => x.inProgramMs)),
      times(paired(r, piscina, (x) => x.inProgramMs)),
      ms(over(r, (x) => x.wholeMs)),
      times(paired(r, sequential, (x) => x.wholeMs)),
      times(paired(r, piscina, (x) => x.wholeMs)),
      String(samples(r, (x) => x.wholeMs).length),
      notes(r.errors, r.leftovers)
    ])
  }
}

const failures = (s: HttpRound["one"]) => s.errors + s.timeouts + s.non2xx

export const httpTables = (
  rows: ReadonlyArray<HttpRow>,
  titles: { readonly one: string; readonly many: string; readonly health: string }
): Array<Table> => {
  const inline = rows.find((r) => isSequential(r.impl))
  const piscina = rows.find((r) => isPiscina(r.impl))
  const label = (r: HttpRow) => (isSequential(r.impl) ? "inline (rendered on the event loop)" : r.impl.label)
  const runs = (r: HttpRow) => String(r.rounds.filter((x) => x !== undefined).length)
  // each table notes the failed requests of its own phase (autocannon's errors, timeouts and non-2xx answers)
  const rowNotes = (r: HttpRow, phase: "one" | "many" | "health") => {
    const extra: Array<string> = []
    const failed = over(r, (x) => failures(x[phase]))
    if (failed !== undefined && failed > 0) extra.push(`${num(failed)} requests failed or timed out a round (median)`)
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
        isSequential(r.impl) ? "" : ms(paired(r, inline, mean, "difference"), 2),
        times(paired(r, inline, mean, "ratio")),
        times(paired(r, piscina, mean, "ratio")),
        ms(
          over(r, (x) => x.one.requests.average),
          1
        ),
        runs(r),
        rowNotes(r, "one")
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
        times(paired(r, inline, (x) => x.many.requests.average, "ratio")),
        times(paired(r, piscina, (x) => x.many.requests.average, "ratio")),
        latency(over(r, (x) => x.many.latency.p50)),
        latency(over(r, (x) => x.many.latency.p99)),
        times(paired(r, piscina, (x) => x.many.latency.p99, "ratio")),
        runs(r),
        rowNotes(r, "many")
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
          [rowNotes(r, "health"), silent > 0 ? `no probe answered within the phase in ${silent} round(s)` : ""]
            .filter((n) => n !== "")
            .join("; ")
        ]
      })
    }
  ]
}

export { consoleTable, markdownTable }
