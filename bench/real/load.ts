/**
 * The load generator of the HTTP workload: autocannon, run as its own CLI in
 * a process of its own (and its own process group, with a time limit), so
 * that its work and the server's do not share an event loop. It answers
 * autocannon's JSON summary; latencies are in milliseconds, recorded by
 * autocannon to the whole millisecond (its means are means of those).
 */
import * as Isolated from "../isolated.ts"

const AUTOCANNON = new URL("../../node_modules/autocannon/autocannon.js", import.meta.url).pathname

/** How much longer than its duration a load run may take before it is killed. */
const LOAD_SLACK_MS = 30_000

export interface Latency {
  readonly mean: number
  readonly p50: number
  readonly p99: number
  readonly max: number
  readonly totalCount: number
}

/** The part of autocannon's JSON summary read here. */
export interface LoadSummary {
  readonly duration: number
  readonly errors: number
  readonly timeouts: number
  readonly non2xx: number
  readonly "2xx": number
  readonly latency: Latency
  readonly requests: { readonly average: number; readonly total: number }
}

export interface LoadOptions {
  readonly url: string
  readonly connections: number
  readonly seconds: number
  /**
   * At most this many requests a second over all connections; the latencies
   * are then those of the requests really sent (`--ignoreCoordinatedOmission`):
   * a prober's view, with no synthetic samples for the requests a slow answer
   * held back.
   */
  readonly rate?: number
}

/** Runs autocannon once against `url` and answers its summary. */
export const load = async (options: LoadOptions): Promise<LoadSummary> => {
  const args = [
    AUTOCANNON,
    "--connections",
    String(options.connections),
    "--duration",
    String(options.seconds),
    ...(options.rate !== undefined ? ["--overallRate", String(options.rate), "--ignoreCoordinatedOmission"] : []),
    "--no-progress",
    "--json",
    options.url
  ]
  const grouped = Isolated.spawnGrouped(process.execPath, args, { timeoutMs: options.seconds * 1000 + LOAD_SLACK_MS })
  const end = await grouped.ended
  if (end.timedOut || end.code !== 0) {
    throw new Error(
      `autocannon ${options.url} ended ${end.timedOut ? "at its time limit" : `with ${end.code ?? end.signal}`}: ${grouped.stderr().trim().slice(-500)}`
    )
  }
  const line = grouped
    .stdout()
    .split("\n")
    .find((l) => l.startsWith("{"))
  if (line === undefined)
    throw new Error(`autocannon ${options.url} printed no summary: ${grouped.stderr().trim().slice(-500)}`)
  return JSON.parse(line) as LoadSummary
}
