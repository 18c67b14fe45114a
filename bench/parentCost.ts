/**
 * The parent's cost of a tiny task with no worker behind it: a kind of worker
 * that lives in memory and answers each batch of jobs in the next turn of the
 * event loop (the seam's other implementation, as the engine's tests have
 * one), driving the real engine and service. What is left is the pool's own
 * work in the parent: the job, its dispatch, metrics, delivery, and the
 * caller's side of `submit`. Rounds of 20,000 tasks submitted at once, as
 * workload 1 of `npm run bench`; per task, the median round's wall time and
 * the process's CPU time (GC threads included) over all rounds:
 *
 * - `engine`: requests given to the engine directly, a counter as callback;
 * - `submit`: `Effect.forEach` of `pool.submit`, then `Fiber.joinAll`;
 * - each again with a recorder that records nothing: what the pool's
 *   metrics cost.
 *
 * Every figure is measured once untimed, then in `BENCH_PASSES` passes
 * (default 3), each pass starting with the next figure; each is reported as
 * its median pass.
 *
 *   npm run bench:parent-cost
 *   BENCH_ROUNDS=11 BENCH_PASSES=5 npm run bench:parent-cost
 */
import { Effect, Fiber, Result, Scope } from "effect"
import * as Engine from "../src/internal/engine.ts"
import * as Metrics from "../src/internal/metrics.ts"
import * as Options from "../src/internal/options.ts"
import * as P from "../src/internal/protocol.ts"
import { makeService } from "../src/internal/service.ts"
import type { WorkerEnd, WorkerKind } from "../src/internal/workerKind.ts"
import { median } from "./measure.ts"
import { square } from "./tasks.ts"

const TASKS = 20_000
const WARM_ROUNDS = 5
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 21)
const PASSES = Number(process.env.BENCH_PASSES ?? 3)

const ended: WorkerEnd = {
  exitCode: 0,
  signal: null,
  detail: "exited with code 0",
  killedFromOutside: false,
  lostChannel: undefined,
  spawnError: undefined,
  stderr: ""
}

/** Squares every input of every `Run` it is sent and answers them all in one frame in the next turn; exits when asked. */
const echo: WorkerKind = {
  name: "echo",
  spawn: (id, handlers) => {
    let frame: Array<unknown> = []
    let scheduled = false
    const loaded = new Set<number>()
    const flush = () => {
      scheduled = false
      const out = frame
      frame = []
      handlers.onFrame(out)
    }
    setImmediate(() => handlers.onFrame([[P.READY]]))
    return {
      label: `echo ${id}`,
      pid: undefined,
      send: (messages) => {
        for (const message of messages) {
          // asked to finish and exit (the pool's scope closing): it holds nothing, so it exits
          if (message[0] === P.SHUTDOWN) setImmediate(() => handlers.onEnd(ended))
          if (message[0] !== P.RUN) continue
          const [, job, ref, , inputs] = message
          if (!loaded.has(ref)) {
            loaded.add(ref)
            frame.push([P.LOADED, ref])
          }
          frame.push([P.DONE, job, (inputs as ReadonlyArray<number>).map((x) => x * x)])
        }
        if (!scheduled && frame.length > 0) {
          scheduled = true
          setImmediate(flush)
        }
      },
      accepting: () => true,
      kill: () => {
        setImmediate(() => handlers.onEnd(ended))
      },
      receiving: () => false
    }
  },
  close: () => {}
}

interface Figures {
  readonly wallUs: number
  readonly cpuUs: number
}

type LocalEngine = Engine.PoolEngine<Engine.Handle<Engine.AnyTask>>
type Pool = ReturnType<typeof makeService>

const measure = (metrics: boolean, round: (engine: LocalEngine, pool: Pool) => Effect.Effect<void, unknown>) =>
  Effect.scoped(
    Effect.gen(function* () {
      const options = Options.poolOptions({ maxWorkers: 2, minWorkers: 2 })
      if (Result.isFailure(options)) return yield* Effect.die(new Error(options.failure))
      const context = yield* Effect.context<never>()
      const engine = Engine.make(
        options.success,
        { metrics: metrics ? Metrics.recorder(context) : Metrics.noRecorder, onLog: () => {} },
        echo
      )
      const scope = yield* Effect.scope
      const fibers = yield* Scope.fork(scope)
      yield* Scope.addFinalizer(
        scope,
        Effect.callback<void>((resume) => engine.shutdown(() => resume(Effect.void)))
      )
      const pool = makeService(engine, () => 2, fibers)
      for (let i = 0; i < WARM_ROUNDS; i++) yield* round(engine, pool)
      const walls: Array<number> = []
      const cpu = process.cpuUsage()
      for (let i = 0; i < ROUNDS; i++) {
        const start = performance.now()
        yield* round(engine, pool)
        walls.push(((performance.now() - start) * 1000) / TASKS)
      }
      const used = process.cpuUsage(cpu)
      walls.sort((a, b) => a - b)
      const figures: Figures = {
        wallUs: walls[Math.floor(walls.length / 2)]!,
        cpuUs: (used.user + used.system) / (ROUNDS * TASKS)
      }
      return figures
    })
  )

const inputs = Array.from({ length: TASKS }, (_, i) => i)

const engineRound = (engine: LocalEngine) =>
  Effect.callback<void>((resume) => {
    let left = TASKS
    const onEnd = () => {
      if (--left === 0) resume(Effect.void)
    }
    for (const i of inputs) engine.submit({ task: square, inputs: [i], mode: P.MODE_STOP_ON_FAILURE, onEnd })
  })

const submitRound = (pool: Pool) =>
  Effect.asVoid(
    Effect.flatMap(
      Effect.forEach(inputs, (i) => pool.submit(square, i)),
      Fiber.joinAll
    )
  )

await Effect.runPromise(
  Effect.gen(function* () {
    console.log(
      `the parent's cost of a tiny task, no worker behind it: ${ROUNDS} rounds of ${TASKS.toLocaleString("en-US")} tasks`
    )
    const figures = [
      ["engine", true, engineRound],
      ["engine, no metrics", false, engineRound],
      ["submit", true, (_: LocalEngine, pool: Pool) => submitRound(pool)],
      ["submit, no metrics", false, (_: LocalEngine, pool: Pool) => submitRound(pool)]
    ] as const
    // The first figure a process measures pays for compiling the engine and
    // the service (measured: "engine" 1.6 µs a task first, 1.1 after, in one
    // process): every figure is measured once untimed, then in passes that
    // each start with a different one, and the median pass is reported.
    const seen = new Map<string, Array<Figures>>()
    for (let pass = 0; pass <= PASSES; pass++) {
      for (let k = 0; k < figures.length; k++) {
        const [label, metrics, round] = figures[(k + pass) % figures.length]!
        const measured = yield* measure(metrics, round)
        if (pass > 0) seen.set(label, [...(seen.get(label) ?? []), measured])
      }
    }
    for (const [label] of figures) {
      const all = seen.get(label)!
      const wall = median(all.map((f) => f.wallUs))
      const cpu = median(all.map((f) => f.cpuUs))
      console.log(
        `${label.padEnd(20)} wall ${wall.toFixed(2)} µs a task (median round), CPU ${cpu.toFixed(2)} µs a task (medians of ${PASSES} passes)`
      )
    }
  })
)
