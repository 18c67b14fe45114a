/**
 * The engine on a fake kind of worker (fakeKind.ts) and a clock the test
 * moves (fakeClock.ts): the options every such test starts from, the engine
 * built on them, and a task for it (which no fake worker runs).
 */
import { Schema } from "effect"
import * as Engine from "../../src/internal/engine.ts"
import * as Metrics from "../../src/internal/metrics.ts"
import * as Task from "../../src/Task.ts"
import * as FakeClock from "./fakeClock.ts"
import * as FakeKind from "./fakeKind.ts"

/** What a task given to fake workers does if it runs: it never does. */
export const never = (): never => {
  throw new Error("never run: the workers are fakes")
}

/** n → n², as the tests' fake workers answer it. */
export const square = Task.make("square", {
  module: import.meta.url,
  payload: Schema.Number,
  success: Schema.Number,
  run: never
})

/** One worker at most, none kept; a second of grace, five to shut down. */
export const OPTIONS: Engine.EngineOptions = {
  workerType: "process",
  wire: "json",
  maxWorkers: 1,
  minWorkers: 0,
  maxTasksPerWorker: undefined,
  maxQueue: Number.POSITIVE_INFINITY,
  interruptGraceMs: 1_000,
  shutdownTimeoutMs: 5_000,
  idleTimeoutMs: undefined,
  execArgv: undefined,
  env: {},
  serialization: "json",
  maxWorkerMemory: undefined,
  stdio: "inherit"
}

/** An engine with `options` over `OPTIONS`, its fake workers, its clock, and the log entries it wrote. */
export const make = (options: Partial<Engine.EngineOptions> = {}, metrics: Metrics.Recorder = Metrics.noRecorder) => {
  const time = FakeClock.make()
  const fake = FakeKind.make()
  const logs: Array<Engine.LogEntry> = []
  const engine = Engine.make(
    { ...OPTIONS, ...options },
    { metrics, onLog: (_, entry) => logs.push(entry) },
    fake.kind,
    undefined,
    time.clock
  )
  return { time, fake, engine, logs }
}
