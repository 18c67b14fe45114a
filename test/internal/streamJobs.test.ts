/**
 * The engine's rules for stream jobs (src/internal/streamJobs.ts), with a fake
 * kind of worker and a fake clock (see engine.test.ts): credit goes with the
 * job and with each grant, elements reach the consumer in order and before the
 * end, a worker that breaks its stream's credit is replaced, and a worker
 * holding a stream job is sent nothing more.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Exit, Schema, type Stream } from "effect"
import type * as Outcomes from "../../src/internal/outcomes.ts"
import * as P from "../../src/internal/protocol.ts"
import * as StreamJobs from "../../src/internal/streamJobs.ts"
import * as Task from "../../src/Task.ts"
import * as FakeClock from "../helpers/fakeClock.ts"
import * as FakeEngine from "../helpers/fakeEngine.ts"
import type * as FakeKind from "../helpers/fakeKind.ts"

const { never, square } = FakeEngine

const numbers = Task.makeStream("numbers", {
  module: import.meta.url,
  payload: Schema.Number,
  element: Schema.Number,
  run: (): Stream.Stream<number> => never()
})

const setup = () => {
  const { time, fake, engine } = FakeEngine.make()
  const plain = (n: number) => {
    const call = {
      settled: undefined as Outcomes.Settled<number, unknown> | undefined,
      job: engine.submit({
        task: square,
        inputs: [n],
        mode: P.MODE_STOP_ON_FAILURE,
        onEnd: (settled) => {
          call.settled = settled as Outcomes.Settled<number, unknown>
        }
      })
    }
    return call
  }
  const stream = (bufferSize: number) => {
    const call = {
      elements: [] as Array<unknown>,
      /** how many elements had come when the end did */
      endedAfter: -1,
      settled: undefined as Outcomes.Settled<number, unknown> | undefined,
      job: engine.submit({
        task: numbers,
        inputs: [0],
        mode: P.MODE_STREAM,
        stream: StreamJobs.makeSink(bufferSize, (values) => call.elements.push(...values)),
        onEnd: (settled) => {
          call.endedAfter = call.elements.length
          call.settled = settled as Outcomes.Settled<number, unknown>
        }
      })
    }
    return call
  }
  return { time, fake, engine, plain, stream, worker: (i: number) => fake.workers[i]! }
}

type Setup = ReturnType<typeof setup>

/** A ready worker whose pace is known to be fast: it would take jobs ahead. */
const warm = async (t: Setup) => {
  const call = t.plain(0)
  await FakeClock.microtasks()
  const w = t.worker(0)
  await w.ready()
  await w.done(w.runs()[0]![1], [0])
  assert.isDefined(call.settled)
  return w
}

const creditsOf = (w: FakeKind.FakeWorker) =>
  w.received.filter((m): m is P.Credit => m[0] === P.CREDIT).map((m) => [m[1], m[2]])

describe("stream jobs in the engine", () => {
  it("send the consumer's buffer as credit right after the Run, and each grant as it is made", async () => {
    const t = setup()
    const w = await warm(t)
    const call = t.stream(8)
    // granted while queued: it leaves with the first credit
    t.engine.credit!(call.job, 2)
    await FakeClock.microtasks()
    const run = w.runs()[1]!
    assert.strictEqual(run[3], P.MODE_STREAM)
    const i = w.received.indexOf(run)
    assert.deepStrictEqual(w.received[i + 1], [P.CREDIT, run[1], 10], "the credit follows its Run")
    t.engine.credit!(call.job, 4)
    await FakeClock.microtasks()
    assert.deepStrictEqual(creditsOf(w), [
      [run[1], 10],
      [run[1], 4]
    ])
  })

  it("give the consumer its elements in order, and the end after them", async () => {
    const t = setup()
    const w = await warm(t)
    const call = t.stream(4)
    await FakeClock.microtasks()
    const id = w.runs()[1]![1]
    await w.send([P.ELEMENTS, id, [1, 2]], [P.ELEMENTS, id, [3]], [P.DONE, id, []])
    assert.deepStrictEqual(call.elements, [1, 2, 3])
    assert.strictEqual(call.endedAfter, 3)
    assert.deepStrictEqual(call.settled?.values, [], "the end of a stream has no values of its own")
  })

  it("read a packed batch (the JSON text of its elements) as the elements it holds, counted against the credit", async () => {
    const t = setup()
    const w = await warm(t)
    const call = t.stream(3)
    await FakeClock.microtasks()
    const id = w.runs()[1]![1]
    await w.send([P.ELEMENTS, id, "[1,2]"], [P.ELEMENTS, id, [3]], [P.DONE, id, []])
    assert.deepStrictEqual(call.elements, [1, 2, 3])
    assert.isFalse(w.killed, "three elements within a credit of three")
    assert.strictEqual(call.endedAfter, 3)
  })

  for (const text of ["[1,", "{}", "[]", "7"]) {
    it(`replace a worker whose packed batch is not the JSON text of a non-empty array (${text})`, async () => {
      const t = setup()
      const w = await warm(t)
      const call = t.stream(4)
      await FakeClock.microtasks()
      const id = w.runs()[1]![1]
      await w.send([P.ELEMENTS, id, [1]], [P.ELEMENTS, id, text])
      assert.deepStrictEqual(call.elements, [1])
      assert.isTrue(w.killed, "a stream whose elements were lost would stall for ever")
      await w.end()
      const exit = call.settled?.exits?.[0]
      assert.isTrue(exit !== undefined && Exit.isFailure(exit))
    })
  }

  it("replace a worker that sends more than its credit, and end the stream with WorkerCrashed", async () => {
    const t = setup()
    const w = await warm(t)
    const call = t.stream(2)
    await FakeClock.microtasks()
    const id = w.runs()[1]![1]
    await w.send([P.ELEMENTS, id, [1, 2]])
    assert.isFalse(w.killed, "within its credit")
    await w.send([P.ELEMENTS, id, [3]])
    assert.deepStrictEqual(call.elements, [1, 2], "what is beyond the credit never reaches the consumer")
    assert.isTrue(w.killed)
    await w.end()
    const exit = call.settled?.exits?.[0]
    assert.isTrue(exit !== undefined && Exit.isFailure(exit))
    const error = Cause.squash((exit as Exit.Failure<unknown, unknown>).cause) as { reason: { _tag: string } }
    assert.strictEqual(error.reason._tag, "WorkerCrashed")
  })

  it("drop elements for a job that is not a stream job, and leave that job alone", async () => {
    const t = setup()
    const w = await warm(t)
    const call = t.plain(3)
    await FakeClock.microtasks()
    const id = w.runs()[1]![1]
    await w.send([P.ELEMENTS, id, [1]])
    assert.isFalse(w.killed)
    await w.done(id, [9])
    assert.deepStrictEqual(call.settled?.values, [9])
  })

  it("hold their worker: nothing is sent to it behind a stream job until that ends, and it counts as busy", async () => {
    const t = setup()
    const w = await warm(t)
    const stream = t.stream(4)
    await FakeClock.microtasks()
    const later = [t.plain(1), t.plain(2)]
    await FakeClock.microtasks()
    assert.strictEqual(w.runs().length, 2, "a fast worker would take jobs ahead, but not behind a stream")
    assert.deepStrictEqual({ busy: t.engine.stats().busy, queued: t.engine.stats().queued }, { busy: 1, queued: 2 })
    const id = w.runs()[1]![1]
    await w.send([P.DONE, id, []])
    assert.isDefined(stream.settled)
    assert.isAbove(w.runs().length, 2, "once it ends, the queued jobs go to it")
    await w.done(w.runs()[2]![1], [1])
    assert.deepStrictEqual(later[0]!.settled?.values, [1])
  })

  it("refuse an answer that does not end a stream: values, or a success outcome", async () => {
    const t = setup()
    const w = await warm(t)
    const call = t.stream(4)
    await FakeClock.microtasks()
    const id = w.runs()[1]![1]
    await w.send([P.DONE, id, [1]])
    await w.send([P.OUTCOMES, id, [[P.SUCCESS, 1]]])
    assert.isUndefined(call.settled)
    await w.send([P.OUTCOMES, id, [[P.INTERRUPTED]]])
    assert.isDefined(call.settled)
  })
})
