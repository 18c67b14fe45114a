/**
 * One round of the HTTP workload for one implementation: a fresh server
 * (bench/real/server.ts, in a process group of its own), checked once, warmed
 * up, then loaded by autocannon (bench/real/load.ts) in three phases:
 *
 * 1. one connection on /render: the latency of one request with nothing else
 *    to do, whose difference from the inline server's is the cost of sending
 *    the render to a worker and back;
 * 2. 64 connections on /render: throughput and tail latency with every worker
 *    busy and a queue;
 * 3. during phase 2, a prober on /health at {@link HEALTH_RATE} requests a
 *    second on a connection of its own: how long a cheap route waits while the
 *    CPU route is loaded.
 *
 * The server is then stopped with SIGTERM (it closes its pool) and killed
 * with its group if it has not ended within {@link STOP_MS}; its group is
 * checked for leftovers either way.
 */
import * as Isolated from "../isolated.ts"
import type { Impl } from "./impls.ts"
import { type LoadSummary, load } from "./load.ts"
import type { ServerConfig } from "./server.ts"

const SERVER = new URL("./server.ts", import.meta.url).pathname

/** Connections of phase 2. */
export const CONNECTIONS = 64
/** The /health prober's rate during phase 2 (requests a second): light next to the load it probes. */
export const HEALTH_RATE = 20
/** The prober starts this long after phase 2 and stops as long before its end: it probes the steady state. */
const HEALTH_MARGIN_S = 1
/** Connections and seconds of the untimed warm-up: workers started, `marked` loaded, the JIT warm. */
const WARM_CONNECTIONS = 2
/** Between two phases: a request cut at the end of one (autocannon stops mid-request) is settled before the next. */
const PAUSE_MS = 500
/** How long a server may take to print its address. */
const LISTEN_MS = 60_000
/** How long a server may take to stop after SIGTERM before its group is killed. */
const STOP_MS = 15_000

export interface HttpConfig extends Omit<ServerConfig, "poolOptions"> {
  /** seconds of phases 1 and 2 */
  readonly seconds: number
  readonly warmSeconds: number
  /** the length of the document's HTML, checked on the first answer */
  readonly htmlChars: number
}

export interface HttpRound {
  readonly one: LoadSummary
  readonly many: LoadSummary
  readonly health: LoadSummary
  /** how the server ended: by itself after SIGTERM, or killed */
  readonly stop: "SIGTERM" | "killed"
  readonly stopMs: number
}

/** A round's figures, or why there are none; and what its server left behind either way. */
export interface HttpOutcome {
  readonly round?: HttpRound
  readonly error?: string
  readonly leftovers: ReadonlyArray<string>
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Checks that /render answers the document's HTML and /health answers "ok". */
const check = async (base: string, htmlChars: number) => {
  const render = await fetch(`${base}/render`, { signal: AbortSignal.timeout(LISTEN_MS) })
  const html = await render.text()
  if (render.status !== 200 || html.length !== htmlChars) {
    throw new Error(`/render answered ${render.status} with ${html.length} characters, expected ${htmlChars}`)
  }
  const health = await fetch(`${base}/health`, { signal: AbortSignal.timeout(LISTEN_MS) })
  if ((await health.text()) !== "ok") throw new Error(`/health answered ${health.status}`)
}

export const httpRound = async (impl: Impl, config: HttpConfig): Promise<HttpOutcome> => {
  const serverConfig: ServerConfig = {
    workers: config.workers,
    poolOptions: impl.poolOptions,
    source: config.source,
    repeat: config.repeat
  }
  // the time limit of the server's group: every phase, with room for a slow start and stop
  const limitMs = LISTEN_MS + STOP_MS + (config.warmSeconds + 2 * config.seconds) * 1000 + 4 * 30_000
  const server = Isolated.spawnGrouped(
    process.execPath,
    ["--conditions=effect-process-pool:source", SERVER, impl.kind, JSON.stringify(serverConfig)],
    { timeoutMs: limitMs }
  )
  let phases: Pick<HttpRound, "one" | "many" | "health"> | undefined
  let failure: unknown
  try {
    const [, port] = await server.waitFor(/Listening on http:\/\/127\.0\.0\.1:(\d+)/, LISTEN_MS)
    const base = `http://127.0.0.1:${port}`
    await check(base, config.htmlChars)
    await load({ url: `${base}/render`, connections: WARM_CONNECTIONS, seconds: config.warmSeconds })
    await sleep(PAUSE_MS)
    const one = await load({ url: `${base}/render`, connections: 1, seconds: config.seconds })
    await sleep(PAUSE_MS)
    const [many, health] = await Promise.all([
      load({ url: `${base}/render`, connections: CONNECTIONS, seconds: config.seconds }),
      sleep(HEALTH_MARGIN_S * 1000).then(() =>
        load({
          url: `${base}/health`,
          connections: 1,
          seconds: Math.max(1, config.seconds - 2 * HEALTH_MARGIN_S),
          rate: HEALTH_RATE
        })
      )
    ])
    phases = { one, many, health }
  } catch (error) {
    failure = error
  }
  const stopping = performance.now()
  server.signal("SIGTERM")
  let timer: NodeJS.Timeout | undefined
  const stopped = await new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), STOP_MS)
    server.ended.then(() => resolve(true))
  })
  clearTimeout(timer)
  if (!stopped) server.kill()
  const end = await server.ended
  const stopMs = performance.now() - stopping
  if (phases === undefined) {
    const message = failure instanceof Error ? failure.message : String(failure)
    return { error: `${message}; the server's stderr: ${server.stderr().trim().slice(-800)}`, leftovers: end.leftovers }
  }
  return { round: { ...phases, stop: stopped ? "SIGTERM" : "killed", stopMs }, leftovers: end.leftovers }
}
