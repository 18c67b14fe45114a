/**
 * examples/http-server.ts as a user runs it: a real server process on
 * 127.0.0.1, real requests. What it must show is that CPU work on the pool
 * leaves the server's event loop free: while the CPU route is loaded, the
 * cheap route answers in a small fraction of the time one CPU request takes
 * unloaded (both measured in this run), where work on the event loop would make
 * it wait for whole requests.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { processesInGroup } from "./helpers/processes.ts"
import { start } from "./helpers/programs.ts"

const example = new URL("../examples/http-server.ts", import.meta.url).pathname

// about 0.4 s of trial division on these machines: long enough that a blocked event loop would show
const BELOW = 2_500_000
const PRIMES_BELOW = 183_072
const CONCURRENT = 4
const REQUEST_TIMEOUT_MS = 20_000

const get = (base: string, path: string) =>
  Effect.promise(async () => {
    const startedAt = performance.now()
    const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
    const body = await response.text()
    return { status: response.status, body, ms: performance.now() - startedAt }
  })

const quantile = (xs: ReadonlyArray<number>, q: number) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

describe("examples/http-server.ts", () => {
  it.live(
    "the cheap route stays responsive while the CPU route is loaded, and the server stops by itself on SIGTERM",
    () =>
      Effect.gen(function* () {
        const server = yield* start(["--conditions=effect-process-pool:source", example], { env: { PORT: "0" } })
        const [, port] = yield* server.waitFor(/Listening on http:\/\/127\.0\.0\.1:(\d+)/, 20_000)
        const base = `http://127.0.0.1:${port}`

        const health = yield* get(base, "/health")
        assert.deepStrictEqual([health.status, health.body], [200, "ok"])
        const invalid = yield* get(base, "/primes/many")
        assert.strictEqual(invalid.status, 400)

        // unloaded baselines: a warm worker's CPU request, and the cheap route
        const first = yield* get(base, `/primes/${BELOW}`)
        assert.deepStrictEqual(JSON.parse(first.body), { below: BELOW, count: PRIMES_BELOW })
        const cpu: Array<number> = []
        for (let i = 0; i < 3; i++) cpu.push((yield* get(base, `/primes/${BELOW}`)).ms)
        const cpuMs = quantile(cpu, 0.5)
        const idle: Array<number> = []
        for (let i = 0; i < 20; i++) idle.push((yield* get(base, "/health")).ms)

        // loaded: more CPU requests than workers, and the cheap route probed until they are all answered
        let pending = CONCURRENT
        const loadFiber = yield* Effect.forEach(
          Array.from({ length: CONCURRENT }, () => `/primes/${BELOW}`),
          (path) => get(base, path).pipe(Effect.ensuring(Effect.sync(() => pending--))),
          { concurrency: "unbounded" }
        ).pipe(Effect.forkChild({ startImmediately: true }))
        const loaded: Array<number> = []
        while (pending > 0) {
          const probe = yield* get(base, "/health")
          assert.strictEqual(probe.body, "ok")
          loaded.push(probe.ms)
          yield* Effect.sleep(20)
        }
        const answers = yield* Fiber.join(loadFiber)
        for (const answer of answers)
          assert.deepStrictEqual(JSON.parse(answer.body), { below: BELOW, count: PRIMES_BELOW })

        const report =
          `one CPU request unloaded: ${cpuMs.toFixed(0)} ms; /health unloaded p50 ${quantile(idle, 0.5).toFixed(1)} ms, ` +
          `loaded p50 ${quantile(loaded, 0.5).toFixed(1)} ms, p90 ${quantile(loaded, 0.9).toFixed(1)} ms, ` +
          `max ${Math.max(...loaded).toFixed(1)} ms over ${loaded.length} probes`
        console.log(report)
        // with the work on the event loop, a probe would wait for a CPU request: p50 near cpuMs / 2, p90 near cpuMs
        assert.isAtLeast(loaded.length, 5, report)
        assert.isBelow(quantile(loaded, 0.5), cpuMs / 5, report)
        assert.isBelow(quantile(loaded, 0.9), cpuMs / 2, report)

        // as a process manager stops it: the server closes, the pool shuts its workers down, the process exits
        const exited = yield* server.stop("SIGTERM", 10_000)
        assert.deepStrictEqual(exited, { code: 130, signal: null }, server.output())
        assert.deepStrictEqual(processesInGroup(server.pid), [], "the server left processes behind")
      }),
    60_000
  )
})
