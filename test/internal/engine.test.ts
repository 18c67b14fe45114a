/**
 * The engine without a process: a fake kind of worker (helpers/fakeKind.ts)
 * that the test plays, and a clock the test moves (helpers/fakeClock.ts). The
 * orders of events that once took hunting flaky tests under load to find (an
 * interrupt racing an answer, a revoke racing a start, a death with held
 * jobs) are scripted here, one step at a time.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Context, Exit, Metric } from "effect"
import type * as Engine from "../../src/internal/engine.ts"
import * as Interrupts from "../../src/internal/interrupts.ts"
import * as Metrics from "../../src/internal/metrics.ts"
import type * as Outcomes from "../../src/internal/outcomes.ts"
import * as P from "../../src/internal/protocol.ts"
import * as Workers from "../../src/internal/workers.ts"
import * as FakeClock from "../helpers/fakeClock.ts"
import * as FakeEngine from "../helpers/fakeEngine.ts"
import type * as FakeKind from "../helpers/fakeKind.ts"

const { square } = FakeEngine

const GRACE = FakeEngine.OPTIONS.interruptGraceMs
const SHUTDOWN = FakeEngine.OPTIONS.shutdownTimeoutMs

/** What a test watches of one job: how it ended for its caller, and whether a stop resumed it. */
interface Call {
  readonly job: Engine.Handle<Engine.AnyTask>
  settled: Outcomes.Settled<number, unknown> | undefined
  stopped: boolean
  /** its job joined the queue (`Request.onAdmitted`) */
  admitted: boolean
  readonly interrupt: () => void
}

const setup = (options: Partial<Engine.EngineOptions> = {}, metrics?: Metrics.Recorder) => {
  const { time, fake, engine, logs } = FakeEngine.make(options, metrics)
  const submit = (...inputs: ReadonlyArray<number>): Call => {
    const call: Call = {
      job: engine.submit({
        task: square,
        inputs,
        mode: P.MODE_ALL,
        onEnd: (settled) => {
          call.settled = settled as Outcomes.Settled<number, unknown>
        },
        onAdmitted: () => {
          call.admitted = true
        }
      }),
      settled: undefined,
      stopped: false,
      admitted: false,
      interrupt: () =>
        engine.interrupt(call.job, () => {
          call.stopped = true
        })
    }
    return call
  }
  const shutdown = () => {
    const done = { done: false }
    engine.shutdown(() => {
      done.done = true
    })
    return done
  }
  return { time, fake, engine, logs, submit, shutdown, worker: (i: number) => fake.workers[i]! }
}

/** The id of the `n`-th job a worker was sent. */
const idOf = (worker: FakeKind.FakeWorker, n: number): number => worker.runs()[n]![1]

/** The values a call ended with, when all of its inputs succeeded. */
const valuesOf = (call: Call): ReadonlyArray<number> | undefined => call.settled?.values

/** The reason of the pool error a call ended with. */
const reasonOf = (call: Call) => {
  const exit = call.settled?.exits?.[0]
  assert.isDefined(exit, "the call ended with an exit")
  assert.isTrue(Exit.isFailure(exit!))
  return (Cause.squash((exit as Exit.Failure<number, unknown>).cause) as { reason: { _tag: string; message: string } })
    .reason
}

/**
 * A ready worker whose pace is known (a job answered at once): it then takes
 * jobs ahead, up to `Policy.MAX_AHEAD`.
 */
const warm = async (t: ReturnType<typeof setup>, worker = 0) => {
  const call = t.submit(0)
  await FakeClock.microtasks()
  const w = t.worker(worker)
  if (w.received.length === 0) await w.ready()
  await w.done(idOf(w, w.runs().length - 1), [0])
  assert.deepStrictEqual(valuesOf(call), [0])
  return w
}

describe("dispatch", () => {
  it("sends a starting worker nothing; once it is ready, the task is defined once and the oldest job leaves", async () => {
    const t = setup()
    const a = t.submit(1)
    const b = t.submit(2)
    await FakeClock.microtasks()
    const w = t.worker(0)
    // another dispatch while it starts
    const c = t.submit(3)
    await FakeClock.microtasks()
    assert.deepStrictEqual(w.received, [], "a worker that is starting takes nothing ahead")
    await w.ready()
    assert.deepStrictEqual(
      w.received.map((m) => m[0]),
      [P.DEFINE, P.RUN],
      "before its pace is known, one job at a time"
    )
    await w.done(idOf(w, 0), [1])
    assert.deepStrictEqual(valuesOf(a), [1])
    assert.strictEqual(w.runs().length, 3, "its pace known (an answer at once), it takes the others ahead")
    assert.strictEqual(w.received.filter((m) => m[0] === P.DEFINE).length, 1, "the task is defined once per worker")
    await w.done(idOf(w, 1), [4])
    assert.deepStrictEqual(valuesOf(b), [4])
    await w.done(idOf(w, 2), [9])
    assert.deepStrictEqual(valuesOf(c), [9])
  })

  it("drops an answer that does not fit its job, and one for a job the worker does not hold", async () => {
    const t = setup()
    const w = await warm(t)
    const a = t.submit(3)
    await FakeClock.microtasks()
    await w.done(idOf(w, 1), [9, 9])
    await w.done(123456789, [1])
    assert.isUndefined(a.settled, "an answer with two values for one input is not taken")
    assert.strictEqual(t.logs.filter((l) => l.level === "Debug").length, 1, "logged once per worker")
    await w.done(idOf(w, 1), [9])
    assert.deepStrictEqual(valuesOf(a), [9])
  })
})

describe("interrupting a job its worker holds but has not started", () => {
  const held = async () => {
    const t = setup()
    const w = await warm(t)
    const running = t.submit(1)
    const behind = t.submit(2)
    await FakeClock.microtasks()
    assert.strictEqual(w.runs().length, 3, "both sent: one runs, one is held behind it")
    behind.interrupt()
    await FakeClock.microtasks()
    assert.deepStrictEqual(w.interrupts(), [idOf(w, 2)])
    return { t, w, running, behind }
  }

  it("concludes it never started once its grace is over and what the worker sent meanwhile is read", async () => {
    const { behind, t, w } = await held()
    await t.time.advance(GRACE)
    assert.isFalse(behind.stopped, "not before the loop's next turn: an answer may still be waiting to be read")
    await t.time.turn()
    assert.isTrue(behind.stopped)
    assert.isFalse(w.killed, "the worker is not killed for a job it never started")
  })

  it("gives it a grace of its own when the job before it answers in that turn: it had started", async () => {
    const { behind, running, t, w } = await held()
    await t.time.advance(GRACE)
    // the answer of the job before it was waiting in the pipe: read in this turn
    await w.done(idOf(w, 1), [1])
    assert.deepStrictEqual(valuesOf(running), [1])
    await t.time.turn()
    assert.isFalse(behind.stopped, "it may be running now")
    await t.time.advance(GRACE)
    assert.isTrue(w.killed, "it did not confirm within its own grace")
    assert.isFalse(behind.stopped, "its caller resumes once the worker is dead")
    await w.end()
    assert.isTrue(behind.stopped)
  })

  it("waits while a message from the worker is still arriving", async () => {
    const { behind, t, w } = await held()
    await t.time.advance(GRACE)
    w.receiving = true
    await t.time.turn()
    await t.time.advance(50)
    assert.isFalse(behind.stopped)
    w.receiving = false
    await t.time.advance(10)
    await t.time.turn()
    assert.isTrue(behind.stopped)
  })

  it("never concludes before the interrupt has had time to arrive, whatever the grace", async () => {
    const t = setup({ interruptGraceMs: 0 })
    const w = await warm(t)
    t.submit(1)
    const behind = t.submit(2)
    await FakeClock.microtasks()
    behind.interrupt()
    await FakeClock.microtasks()
    await t.time.advance(Interrupts.MIN_HELD_WAIT_MS - 1)
    await t.time.turn()
    assert.isFalse(behind.stopped)
    await t.time.advance(1)
    await t.time.turn()
    assert.isTrue(behind.stopped)
    assert.isFalse(w.killed)
  })
})

describe("interrupting a running job", () => {
  it("resumes its caller when the worker confirms", async () => {
    const t = setup()
    const w = await warm(t)
    const call = t.submit(1)
    await FakeClock.microtasks()
    call.interrupt()
    await FakeClock.microtasks()
    assert.deepStrictEqual(w.interrupts(), [idOf(w, 1)])
    await w.interrupted(idOf(w, 1))
    assert.isTrue(call.stopped)
    assert.isUndefined(call.settled, "a caller that interrupted is resumed through its stop, not its end")
    assert.isFalse(w.killed)
  })

  it("kills a worker that does not confirm within the grace; the caller resumes once it is dead; the job is not sent again", async () => {
    const t = setup()
    const w = await warm(t)
    const call = t.submit(1)
    await FakeClock.microtasks()
    call.interrupt()
    await t.time.advance(GRACE - 1)
    assert.isFalse(w.killed)
    await t.time.advance(1)
    assert.isTrue(w.killed)
    assert.isFalse(call.stopped)
    await w.end()
    assert.isTrue(call.stopped)
    const after = t.submit(5)
    await FakeClock.microtasks()
    const replacement = t.worker(1)
    await replacement.ready()
    assert.deepStrictEqual(
      replacement.runs().map((r) => r[4]),
      [[5]],
      "only the new job"
    )
    await replacement.done(idOf(replacement, 0), [25])
    assert.deepStrictEqual(valuesOf(after), [25])
    assert.strictEqual(t.engine.stats().crashed, 0, "a worker the pool killed did not crash")
    assert.strictEqual(t.engine.stats().restarted, 1)
  })
})

describe("work stealing", () => {
  /** One worker running a job with another held behind it, and a second worker that has just become ready. */
  const stealing = async () => {
    const t = setup({ maxWorkers: 2 })
    const w1 = await warm(t)
    const running = t.submit(1)
    const held = t.submit(2)
    await FakeClock.microtasks()
    assert.strictEqual(w1.runs().length, 3)
    const w2 = t.worker(1)
    assert.isDefined(w2, "a second worker starts for the job held behind a running one")
    await w2.ready()
    assert.deepStrictEqual(w1.revokes(), [idOf(w1, 2)], "the idle worker asks for the held job")
    return { t, w1, w2, running, held }
  }

  it("queues the held job again once the revoke has had time to arrive and what came before is read", async () => {
    const { held, t, w1, w2 } = await stealing()
    await t.time.advance(Interrupts.MIN_HELD_WAIT_MS)
    assert.strictEqual(w2.runs().length, 0, "not before the next turn")
    await t.time.turn()
    assert.deepStrictEqual(w2.runs()[0]?.[4], [2])
    await w2.done(idOf(w2, 0), [4])
    assert.deepStrictEqual(valuesOf(held), [4])
    // the first worker, told by the REVOKE, never starts it
    assert.strictEqual(w1.runs().length, 3)
  })

  it("queues it again at once when the worker gives it back", async () => {
    const { held, t, w1, w2 } = await stealing()
    await w1.send([P.REVOKED, idOf(w1, 2)])
    assert.deepStrictEqual(w2.runs()[0]?.[4], [2])
    await w2.done(idOf(w2, 0), [4])
    assert.deepStrictEqual(valuesOf(held), [4])
    // the timer finds it done
    await t.time.advance(Interrupts.MIN_HELD_WAIT_MS)
    await t.time.turn()
    assert.strictEqual(w2.runs().length, 1)
  })

  it("leaves it where it is when the job before it answers first: it has started, and must not run twice", async () => {
    const { held, running, t, w1, w2 } = await stealing()
    await t.time.advance(Interrupts.MIN_HELD_WAIT_MS)
    await w1.done(idOf(w1, 1), [1])
    assert.deepStrictEqual(valuesOf(running), [1])
    await t.time.turn()
    assert.strictEqual(w2.runs().length, 0, "not sent to the idle worker")
    assert.strictEqual(w1.runs().length, 3, "nor again to its own")
    await w1.done(idOf(w1, 2), [4])
    assert.deepStrictEqual(valuesOf(held), [4])
  })
})

describe("a worker's death", () => {
  const holding = async (options: Partial<Engine.EngineOptions> = {}) => {
    const t = setup(options)
    const w = await warm(t)
    const calls = [t.submit(1), t.submit(2), t.submit(3)]
    await FakeClock.microtasks()
    assert.strictEqual(w.runs().length, 4)
    return { t, w, calls }
  }

  it("fails the job it was running with WorkerCrashed and runs the jobs it held, in order, on its replacement", async () => {
    const { calls, t, w } = await holding()
    await w.end()
    assert.strictEqual(reasonOf(calls[0]!)._tag, "WorkerCrashed")
    assert.isUndefined(calls[1]!.settled)
    const replacement = t.worker(1)
    await replacement.ready()
    await replacement.done(idOf(replacement, 0), [4])
    await replacement.done(idOf(replacement, 1), [9])
    assert.deepStrictEqual(
      replacement.runs().map((r) => r[4]),
      [[2], [3]]
    )
    assert.deepStrictEqual(valuesOf(calls[1]!), [4])
    assert.deepStrictEqual(valuesOf(calls[2]!), [9])
    assert.deepStrictEqual(
      { crashed: t.engine.stats().crashed, restarted: t.engine.stats().restarted },
      {
        crashed: 1,
        restarted: 1
      }
    )
  })

  it("ends a held job being interrupted as stopped, not queued again", async () => {
    const { calls, t, w } = await holding()
    calls[2]!.interrupt()
    await FakeClock.microtasks()
    await w.end()
    assert.isTrue(calls[2]!.stopped)
    const replacement = t.worker(1)
    await replacement.ready()
    assert.deepStrictEqual(
      replacement.runs().map((r) => r[4]),
      [[2]]
    )
  })

  it("that lost its channel is a crash, and says so", async () => {
    const { calls, t, w } = await holding()
    await w.broken("fd 4 was closed")
    assert.isTrue(w.killed)
    await w.end()
    const reason = reasonOf(calls[0]!)
    assert.strictEqual(reason._tag, "WorkerCrashed")
    assert.match(reason.message, /it lost its channel: fd 4 was closed/)
    assert.strictEqual(t.engine.stats().crashed, 1)
    assert.isTrue(t.logs.some((l) => l.level === "Warn" && String(l.message[0]).includes("lost its channel")))
  })

  it("before its task was loaded is a start failure of that module: its next jobs fail at once for a while", async () => {
    const t = setup()
    const call = t.submit(1)
    await FakeClock.microtasks()
    const w = t.worker(0)
    await w.ready()
    await w.end()
    assert.strictEqual(reasonOf(call)._tag, "WorkerStartError")
    const next = t.submit(2)
    await FakeClock.microtasks()
    assert.strictEqual(reasonOf(next)._tag, "WorkerStartError", "refused at once during the back-off")
  })

  it("killed from outside while loading its task is a crash, not a broken module", async () => {
    const t = setup()
    const call = t.submit(1)
    await FakeClock.microtasks()
    const w = t.worker(0)
    await w.ready()
    await w.end({ signal: "SIGKILL", exitCode: null, killedFromOutside: true, detail: "was killed by SIGKILL" })
    assert.strictEqual(reasonOf(call)._tag, "WorkerCrashed")
  })
})

describe("starting workers", () => {
  it("kills a worker that is not ready within the start bound; the waiting job fails with WorkerStartError", async () => {
    const t = setup()
    const call = t.submit(1)
    await FakeClock.microtasks()
    const w = t.worker(0)
    await t.time.advance(Workers.START_TIMEOUT_MS)
    assert.isTrue(w.killed)
    await w.end()
    const reason = reasonOf(call)
    assert.strictEqual(reason._tag, "WorkerStartError")
    assert.match(reason.message, /did not start within 30 s/)
  })

  it("one that could not be spawned fails the waiting jobs, and the next start waits out the back-off", async () => {
    const t = setup()
    const call = t.submit(1)
    await FakeClock.microtasks()
    await t.worker(0).end({ spawnError: new Error("spawn EMFILE"), exitCode: null, detail: "could not be spawned" })
    assert.match(reasonOf(call).message, /could not be spawned: spawn EMFILE/)
    const refused = t.submit(2)
    await FakeClock.microtasks()
    assert.strictEqual(reasonOf(refused)._tag, "WorkerStartError")
    assert.strictEqual(t.fake.workers.length, 1, "no start during the back-off")
    await t.time.advance(100)
    const later = t.submit(3)
    await FakeClock.microtasks()
    assert.strictEqual(t.fake.workers.length, 2, "the next start after it")
    await t.worker(1).ready()
    await t.worker(1).done(idOf(t.worker(1), 0), [9])
    assert.deepStrictEqual(valuesOf(later), [9])
  })
})

describe("recycling (maxTasksPerWorker)", () => {
  it("starts the replacement when the last job is sent, retires the worker once it has answered it", async () => {
    const t = setup({ maxTasksPerWorker: 2 })
    const w1 = await warm(t)
    const last = t.submit(1)
    await FakeClock.microtasks()
    assert.strictEqual(w1.runs().length, 2)
    assert.strictEqual(t.fake.workers.length, 2, "its replacement starts while it runs its last job")
    assert.strictEqual(t.engine.stats().restarted, 1)
    const next = t.submit(2)
    await FakeClock.microtasks()
    assert.strictEqual(w1.runs().length, 2, "it is sent nothing more")
    await w1.done(idOf(w1, 1), [1])
    assert.deepStrictEqual(valuesOf(last), [1])
    assert.isTrue(w1.shutdown(), "asked to exit once it has answered")
    const w2 = t.worker(1)
    await w2.ready()
    await w2.done(idOf(w2, 0), [4])
    assert.deepStrictEqual(valuesOf(next), [4])
    await w1.end({ exitCode: 0, detail: "exited with code 0" })
    assert.strictEqual(t.engine.stats().crashed, 0)
    assert.strictEqual(t.fake.workers.length, 2, "no second replacement")
  })

  it("kills a retired worker that has not exited within shutdownTimeout of its last answer", async () => {
    const t = setup({ maxTasksPerWorker: 1 })
    const w1 = await warm(t)
    assert.isTrue(w1.shutdown())
    await t.time.advance(SHUTDOWN - 1)
    assert.isFalse(w1.killed)
    await t.time.advance(1)
    assert.isTrue(w1.killed)
    assert.isTrue(t.logs.some((l) => l.level === "Warn" && String(l.message[0]).includes("did not exit")))
    await w1.end()
    assert.strictEqual(t.engine.stats().crashed, 0)
  })
})

describe("delivery", () => {
  it("hands a job's target back to its onEnd: one function serves many jobs, and no job holds a closure", async () => {
    const t = setup()
    const w = await warm(t)
    const heard: Array<[ReadonlyArray<unknown> | undefined, unknown]> = []
    const onEnd = (settled: Outcomes.Settled<number, unknown>, target: unknown) => {
      heard.push([settled.values ?? settled.exits?.map((e) => e !== undefined && Exit.hasInterrupts(e)), target])
    }
    const first = { name: "first" }
    const second = { name: "second" }
    const submit = (target: object, input: number) =>
      t.engine.submit({ task: square, inputs: [input], mode: P.MODE_ALL, onEnd, target })
    submit(first, 2)
    submit(second, 3)
    await FakeClock.microtasks()
    await w.done(idOf(w, 1), [4])
    assert.deepStrictEqual(heard, [[[4], first]])
    // cancelled by the pool's shutdown: the same target
    t.shutdown()
    await FakeClock.microtasks()
    await w.interrupted(idOf(w, 2))
    assert.strictEqual(heard.length, 2)
    assert.strictEqual(heard[1]![1], second)
    assert.deepStrictEqual(heard[1]![0], [true])
  })
})

describe("metrics", () => {
  /** A program's registry that counts how often each series is looked up. */
  class Registry extends Map<string, Metric.Metric.Metadata<any, any>> {
    readonly lookups = new Map<string, number>()
    override get(key: string) {
      this.lookups.set(key, (this.lookups.get(key) ?? 0) + 1)
      return super.get(key)
    }
    /** Lookups of the series of metric `id` (a key is a JSON array of its type, id, description and attributes). */
    of(id: string) {
      let n = 0
      for (const [key, count] of this.lookups) if ((JSON.parse(key) as Array<unknown>)[1] === id) n += count
      return n
    }
  }

  it("applies a frame's updates at its end, and settles a pass of ended jobs before any caller hears: each finds its own counted", async () => {
    const registry = new Registry()
    const context = Context.make(Metric.MetricRegistry, registry)
    const completed = () =>
      Metric.snapshotUnsafe(context)
        .filter((s) => s.id === "process_pool_tasks_completed")
        .reduce((n, s) => n + (s.state as { count: number }).count, 0)
    const t = setup({}, Metrics.recorder(context))
    const w = await warm(t)
    const read: Array<number> = []
    for (const input of [1, 2, 3])
      t.engine.submit({ task: square, inputs: [input], mode: P.MODE_ALL, onEnd: () => read.push(completed()) })
    await FakeClock.microtasks()
    const runs = w.runs().slice(1)
    assert.strictEqual(runs.length, 3)
    registry.lookups.clear()
    await w.send(...runs.map((run) => [P.DONE, run[1], [(run[4] as ReadonlyArray<number>)[0]! ** 2]]))
    assert.deepStrictEqual(
      read,
      [4, 4, 4],
      "every caller of the frame reads every job of it counted (and the warm-up's)"
    )
    // updated once for the frame: one lookup of each series, not one per job
    assert.strictEqual(registry.of("process_pool_tasks_completed"), 1)
    assert.strictEqual(registry.of("process_pool_run_ms"), 1)
    assert.isAtMost(registry.of("process_pool_queue_depth"), 1)
  })
})

describe("shutdown", () => {
  it("cancels queued jobs, interrupts running ones, asks workers to exit, and is done when they are gone", async () => {
    const t = setup()
    const w = await warm(t)
    const running = t.submit(1)
    await FakeClock.microtasks()
    const queued = t.submit(2)
    const shut = t.shutdown()
    await FakeClock.microtasks()
    assert.deepStrictEqual(
      queued.settled?.exits?.map((e) => e !== undefined && Exit.hasInterrupts(e)),
      [true]
    )
    assert.deepStrictEqual(w.interrupts(), [idOf(w, 1)])
    assert.isTrue(w.shutdown())
    await w.interrupted(idOf(w, 1))
    assert.isFalse(shut.done)
    await w.end({ exitCode: 0, detail: "exited with code 0" })
    assert.isTrue(shut.done)
    assert.isTrue(t.fake.closed)
    assert.strictEqual(running.settled?.exits?.length, 1, "its caller hears that it was cancelled")
    const refused = t.submit(3)
    await FakeClock.microtasks()
    assert.strictEqual(reasonOf(refused)._tag, "PoolClosed")
  })

  it("kills workers that have not exited by shutdownTimeout, and finishes even if a killed one never reports its end", async () => {
    const t = setup()
    const w = await warm(t)
    const shut = t.shutdown()
    await t.time.advance(SHUTDOWN)
    assert.isTrue(w.killed)
    assert.isFalse(shut.done)
    await t.time.advance(2_000)
    assert.isTrue(shut.done)
  })
})

describe("the admission line (maxQueue)", () => {
  /** A warm worker running one job, with `maxQueue` inputs queued or held behind it. */
  const full = async (maxQueue: number) => {
    const t = setup({ maxQueue })
    const w = await warm(t)
    const running = t.submit(1)
    const queued = Array.from({ length: maxQueue }, (_, i) => t.submit(10 + i))
    await FakeClock.microtasks()
    assert.isTrue(running.admitted)
    assert.isTrue(queued.every((call) => call.admitted))
    assert.strictEqual(t.engine.stats().queued, maxQueue)
    return { t, w, running, queued }
  }

  it("holds a job that does not fit until room frees, and lets nobody overtake it: arrival order", async () => {
    const { t, w } = await full(2)
    const pair = t.submit(2, 3)
    const single = t.submit(4)
    await FakeClock.microtasks()
    assert.isFalse(pair.admitted, "2 + 2 inputs do not fit under maxQueue 2")
    assert.isFalse(single.admitted, "one input would fit, but it arrived after the pair")
    assert.strictEqual(t.engine.stats().waiting, 2)
    // the running job answers: the next one starts, one input of room frees; the pair still does not fit
    await w.done(idOf(w, 1), [1])
    assert.isFalse(pair.admitted)
    assert.isFalse(single.admitted)
    await w.done(idOf(w, 2), [100])
    assert.isTrue(pair.admitted, "the first to wait is the first admitted")
    assert.isFalse(single.admitted)
    assert.strictEqual(t.engine.stats().waiting, 1)
    assert.isAtMost(t.engine.stats().queued, 2)
    await w.done(idOf(w, 3), [121])
    await w.done(idOf(w, 4), [4, 9])
    assert.isTrue(single.admitted)
    await w.done(idOf(w, 5), [16])
    assert.deepStrictEqual(valuesOf(pair), [4, 9])
    assert.deepStrictEqual(valuesOf(single), [16])
    assert.deepStrictEqual(
      w
        .runs()
        .slice(4)
        .map((run) => run[1]),
      [pair.job.id, single.job.id],
      "sent in the order they arrived"
    )
  })

  it("takes an interrupted waiter out of the line: it takes no room, is never sent, and the next one goes", async () => {
    const { t, w, queued } = await full(1)
    const gone = t.submit(5)
    const next = t.submit(6)
    await FakeClock.microtasks()
    assert.strictEqual(t.engine.stats().waiting, 2)
    gone.interrupt()
    await FakeClock.microtasks()
    assert.isTrue(gone.stopped, "its caller resumes at once")
    assert.isUndefined(gone.settled)
    assert.strictEqual(t.engine.stats().waiting, 1)
    await w.done(idOf(w, 1), [1])
    assert.isTrue(next.admitted)
    assert.isFalse(gone.admitted)
    await w.done(idOf(w, 2), [100])
    await w.done(idOf(w, 3), [36])
    assert.deepStrictEqual(valuesOf(queued[0]!), [100])
    assert.deepStrictEqual(valuesOf(next), [36])
    assert.isFalse(
      w.runs().some((run) => run[1] === gone.job.id),
      "an interrupted waiter never reaches a worker"
    )
    assert.strictEqual(t.engine.stats().waiting, 0)
    assert.strictEqual(t.engine.stats().queued, 0)
  })

  it("fails the waiting callers with PoolClosed when the pool closes, uncounted", async () => {
    const { t, w } = await full(1)
    const waiting = t.submit(5)
    await FakeClock.microtasks()
    const shut = t.shutdown()
    await FakeClock.microtasks()
    assert.strictEqual(reasonOf(waiting)._tag, "PoolClosed")
    assert.isFalse(waiting.admitted)
    assert.strictEqual(t.engine.stats().waiting, 0)
    assert.strictEqual(t.engine.stats().failed, 0, "work never handed to the pool is not counted")
    // the running and the held job are interrupted in the worker, as without maxQueue
    assert.deepStrictEqual(w.interrupts(), [idOf(w, 1), idOf(w, 2)])
    await w.interrupted(idOf(w, 1))
    await w.interrupted(idOf(w, 2))
    await w.end({ exitCode: 0, detail: "exited with code 0" })
    assert.isTrue(shut.done)
  })

  it("admits a job larger than maxQueue once nothing waits in the pool, so it cannot wait forever", async () => {
    const t = setup({ maxQueue: 2 })
    const w = await warm(t)
    const running = t.submit(1)
    const queued = t.submit(2)
    const big = t.submit(3, 4, 5)
    await FakeClock.microtasks()
    assert.isTrue(queued.admitted)
    assert.isFalse(big.admitted)
    await w.done(idOf(w, 1), [1])
    assert.isTrue(big.admitted)
    assert.deepStrictEqual(valuesOf(running), [1])
  })

  it("fails the waiters too when no worker can start: each is admitted as room frees, and refused", async () => {
    const t = setup({ maxQueue: 1 })
    const queued = t.submit(1)
    const waiting = t.submit(2)
    await FakeClock.microtasks()
    assert.isTrue(queued.admitted)
    assert.isFalse(waiting.admitted)
    await t.worker(0).end({ spawnError: new Error("spawn EMFILE"), exitCode: null, detail: "could not be spawned" })
    assert.strictEqual(reasonOf(queued)._tag, "WorkerStartError")
    assert.strictEqual(reasonOf(waiting)._tag, "WorkerStartError", "a waiter never waits for a pool that cannot start")
    assert.strictEqual(t.engine.stats().waiting, 0)
  })

  it("admits every job at once without maxQueue", async () => {
    const t = setup()
    await warm(t)
    const calls = Array.from({ length: 50 }, (_, i) => t.submit(i))
    await FakeClock.microtasks()
    assert.isTrue(calls.every((call) => call.admitted))
    assert.strictEqual(t.engine.stats().waiting, 0)
  })
})
