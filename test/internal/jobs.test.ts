import { assert, describe, it, vi } from "@effect/vitest"
import * as Clock from "../../src/internal/clock.ts"
import * as Jobs from "../../src/internal/jobs.ts"
import * as P from "../../src/internal/protocol.ts"
import type * as Task from "../../src/Task.ts"

/** The transitions read nothing of a task: a stand-in will do. */
const task = { name: "square", module: "file:///tasks.ts", key: "square" } as unknown as Task.Any

/** A job of `inputs` (by default one input, its id), submitted at `now`. */
const job = (id: number, inputs: ReadonlyArray<unknown> = [id], now = 0): Jobs.Job =>
  Jobs.make(id, 0, { task, inputs, mode: P.MODE_ALL, onEnd: () => {} }, now)

/** What holds sent jobs, without a worker behind it. */
const holder = (): Jobs.Holder => ({ inflight: [], inflightInputs: 0, jobsSent: 0 })

/** A queue of `jobs`, in order. */
const queueOf = (...jobs: ReadonlyArray<Jobs.Job>): Jobs.Queue => {
  const queue = Jobs.makeQueue()
  for (const j of jobs) Jobs.enqueue(queue, j)
  return queue
}

/** Sends the next `n` queued jobs to `to`, answering them. */
const sendTo = (queue: Jobs.Queue, to: Jobs.Holder, n: number, now = 0): Array<Jobs.Job> => {
  const sent: Array<Jobs.Job> = []
  for (let i = 0; i < n; i++) {
    const j = Jobs.sendNext(queue, to, now, () => {})
    if (j === undefined) break
    sent.push(j)
  }
  return sent
}

const ids = (jobs: ReadonlyArray<Jobs.Job>): Array<number> => jobs.map((j) => j.id)

/** The ids of the queued jobs, oldest first. */
const queuedIds = (queue: Jobs.Queue): Array<number> => {
  const found: Array<number> = []
  Jobs.forEachQueued(queue, (j) => found.push(j.id))
  return found
}

describe("a new job", () => {
  it("is queued with its inputs, their count and its submission time, and has no worker", () => {
    const inputs = [1, 2, 3]
    const j = job(7, inputs, 42)
    assert.strictEqual(j.state, Jobs.QUEUED)
    assert.strictEqual(Jobs.inputsOf(j), inputs)
    assert.strictEqual(j.count, 3)
    assert.strictEqual(j.submittedAt, 42)
    assert.isUndefined(j.worker)
    assert.isUndefined(j.stopping)
    assert.isFalse(j.revoking)
    assert.isUndefined(j.graceTimer)
    assert.isUndefined(j.revokeTimer)
  })
})

describe("the queue", () => {
  it("of one input, holds that input and no array of it; its inputs are still an array of one, even of an array", () => {
    const single = job(8, [[1, 2]])
    assert.deepStrictEqual(single.inputs, [1, 2])
    assert.deepStrictEqual(Jobs.inputsOf(single), [[1, 2]])
    assert.strictEqual(single.count, 1)
    assert.deepStrictEqual(Jobs.inputsOf(job(9, [])), [])
  })

  it("counts the inputs of the jobs enqueued", () => {
    const queue = queueOf(job(0, [1, 2]), job(1, [3]))
    assert.strictEqual(queue.inputs, 3)
    assert.isTrue(Jobs.hasQueued(queue))
    assert.isFalse(Jobs.hasQueued(Jobs.makeQueue()))
  })

  it("hasQueued, countQueued and forEachQueued see only the jobs still queued", () => {
    const jobs = [job(0), job(1), job(2), job(3)]
    const queue = queueOf(...jobs)
    Jobs.end(queue, jobs[0]!)
    Jobs.end(queue, jobs[2]!)
    assert.isTrue(Jobs.hasQueued(queue))
    assert.strictEqual(Jobs.countQueued(queue, 10), 2)
    assert.deepStrictEqual(queuedIds(queue), [1, 3])
    Jobs.end(queue, jobs[1]!)
    Jobs.end(queue, jobs[3]!)
    assert.isFalse(Jobs.hasQueued(queue))
    assert.strictEqual(Jobs.countQueued(queue, 10), 0)
    assert.strictEqual(queue.inputs, 0)
  })

  it("countQueued stops counting at its limit", () => {
    const queue = queueOf(job(0), job(1), job(2), job(3))
    assert.strictEqual(Jobs.countQueued(queue, 2), 2)
    assert.strictEqual(Jobs.countQueued(queue, 0), 0)
    assert.strictEqual(Jobs.countQueued(queue, 100), 4)
  })

  it("forEachQueued visits the queued jobs oldest first, and may end each", () => {
    const queue = queueOf(job(0, [1, 2]), job(1), job(2))
    const seen: Array<number> = []
    Jobs.forEachQueued(queue, (j) => {
      seen.push(j.id)
      Jobs.end(queue, j)
    })
    assert.deepStrictEqual(seen, [0, 1, 2])
    assert.isFalse(Jobs.hasQueued(queue))
    assert.strictEqual(queue.inputs, 0)
  })

  it("sends past the jobs that ended while queued", () => {
    const jobs = [job(0), job(1), job(2)]
    const queue = queueOf(...jobs)
    Jobs.end(queue, jobs[0]!)
    Jobs.end(queue, jobs[1]!)
    assert.strictEqual(
      Jobs.sendNext(queue, holder(), 0, () => {}),
      jobs[2]
    )
    assert.isUndefined(Jobs.sendNext(queue, holder(), 0, () => {}))
  })

  it("hasQueued passes over ended jobs at its head", () => {
    const jobs = [job(0), job(1), job(2)]
    const queue = queueOf(...jobs)
    Jobs.end(queue, jobs[0]!)
    Jobs.end(queue, jobs[1]!)
    assert.isTrue(Jobs.hasQueued(queue))
    assert.strictEqual(queue.head, 2)
    // and lets go of them: an ended job holds its caller's callback
    assert.deepStrictEqual(queue.jobs.slice(0, 2), [undefined, undefined])
  })

  it("empties its array once every job has been taken", () => {
    const queue = queueOf(job(0), job(1))
    sendTo(queue, holder(), 3)
    assert.strictEqual(queue.jobs.length, 0)
    assert.strictEqual(queue.head, 0)
  })

  it("compacts its array once more than 1024 jobs of it, and more than half, have been taken", () => {
    const queue = queueOf(...Array.from({ length: 2_000 }, (_, i) => job(i)))
    const to = holder()
    sendTo(queue, to, 1_024)
    assert.strictEqual(queue.head, 1_024)
    assert.strictEqual(queue.jobs.length, 2_000)
    sendTo(queue, to, 1)
    assert.strictEqual(queue.head, 0)
    assert.strictEqual(queue.jobs.length, 2_000 - 1_025)
    // nothing lost, nothing reordered
    assert.strictEqual(Jobs.countQueued(queue, 10_000), 975)
    assert.strictEqual(sendTo(queue, to, 1)[0]!.id, 1_025)
    assert.strictEqual(queue.inputs, 974)
  })

  it("does not compact while less than half of its array has been taken", () => {
    const queue = queueOf(...Array.from({ length: 3_000 }, (_, i) => job(i)))
    sendTo(queue, holder(), 1_100)
    assert.strictEqual(queue.head, 1_100)
    assert.strictEqual(queue.jobs.length, 3_000)
  })
})

describe("sendNext: QUEUED → SENT", () => {
  it("sends the oldest queued job to the holder, which counts it; the queue no longer does", () => {
    const jobs = [job(0, [1, 2]), job(1, [3, 4, 5])]
    const queue = queueOf(...jobs)
    const to = holder()
    const sent = Jobs.sendNext(queue, to, 17, () => {})
    assert.strictEqual(sent, jobs[0])
    assert.strictEqual(sent!.state, Jobs.SENT)
    assert.strictEqual(sent!.worker, to)
    assert.strictEqual(sent!.sentAt, 17)
    assert.deepStrictEqual(to.inflight, [jobs[0]!])
    assert.strictEqual(to.inflightInputs, 2)
    assert.strictEqual(to.jobsSent, 1)
    assert.strictEqual(queue.inputs, 3)
    Jobs.sendNext(queue, to, 18, () => {})
    assert.deepStrictEqual(ids(to.inflight), [0, 1])
    assert.strictEqual(to.inflightInputs, 5)
    assert.strictEqual(to.jobsSent, 2)
    assert.strictEqual(queue.inputs, 0)
  })

  it("write sees the job with its inputs, before they are released", () => {
    const inputs = ["a", "b"]
    const queue = queueOf(job(0, inputs))
    let seen: ReadonlyArray<unknown> | undefined
    const sent = Jobs.sendNext(queue, holder(), 0, (_, j) => {
      seen = Jobs.inputsOf(j)
    })
    assert.strictEqual(seen, inputs)
    assert.strictEqual(Jobs.inputsOf(sent!).length, 0)
    assert.strictEqual(sent!.count, 2)
  })

  it("the first job sent to a holder drops its inputs; the jobs held behind it keep theirs", () => {
    const queue = queueOf(job(0, [1]), job(1, [2]), job(2, [3]))
    const [first, second, third] = sendTo(queue, holder(), 3)
    assert.deepStrictEqual(Jobs.inputsOf(first!), [])
    assert.deepStrictEqual(Jobs.inputsOf(second!), [2])
    assert.deepStrictEqual(Jobs.inputsOf(third!), [3])
  })

  it("a held job drops its inputs once it becomes first", () => {
    const queue = queueOf(job(0, [1]), job(1, [2]), job(2, [3]))
    const [first, second, third] = sendTo(queue, holder(), 3)
    Jobs.end(queue, first!)
    assert.deepStrictEqual(Jobs.inputsOf(second!), [])
    assert.deepStrictEqual(Jobs.inputsOf(third!), [3])
  })

  it("a held job being revoked keeps its inputs when it becomes first: it may be sent again", () => {
    const queue = queueOf(job(0, [1]), job(1, [2]))
    const [first, second] = sendTo(queue, holder(), 2)
    second!.revoking = true
    Jobs.end(queue, first!)
    assert.deepStrictEqual(Jobs.inputsOf(second!), [2])
  })

  it("answers undefined, and writes nothing, when no job is queued", () => {
    const to = holder()
    let writes = 0
    assert.isUndefined(Jobs.sendNext(Jobs.makeQueue(), to, 0, () => writes++))
    assert.strictEqual(writes, 0)
    assert.deepStrictEqual(to, holder())
  })
})

describe("end: → ENDED, from wherever the job is", () => {
  it("a queued job is no longer counted by the queue, and is never sent", () => {
    const jobs = [job(0, [1, 2]), job(1, [3])]
    const queue = queueOf(...jobs)
    assert.isTrue(Jobs.end(queue, jobs[0]!))
    assert.strictEqual(jobs[0]!.state, Jobs.ENDED)
    assert.strictEqual(Jobs.inputsOf(jobs[0]!).length, 0)
    assert.strictEqual(queue.inputs, 1)
    assert.strictEqual(
      Jobs.sendNext(queue, holder(), 0, () => {}),
      jobs[1]
    )
  })

  it("the first sent job leaves its holder, and the one behind it becomes first", () => {
    const queue = queueOf(job(0, [1, 2]), job(1, [3]), job(2, [4]))
    const to = holder()
    const [first, second, third] = sendTo(queue, to, 3)
    assert.isTrue(Jobs.end(queue, first!))
    assert.strictEqual(first!.state, Jobs.ENDED)
    assert.isUndefined(first!.worker)
    assert.deepStrictEqual(ids(to.inflight), [1, 2])
    assert.strictEqual(to.inflightInputs, 2)
    assert.strictEqual(to.jobsSent, 3)
    assert.isTrue(Jobs.isRunning(second!))
    assert.isFalse(Jobs.isRunning(third!))
  })

  it("a held job leaves its holder; the first stays first, and the others keep their order and inputs", () => {
    const queue = queueOf(job(0, [1]), job(1, [2, 3]), job(2, [4]))
    const to = holder()
    const [first, second, third] = sendTo(queue, to, 3)
    assert.isTrue(Jobs.end(queue, second!))
    assert.strictEqual(second!.state, Jobs.ENDED)
    assert.strictEqual(Jobs.inputsOf(second!).length, 0)
    assert.deepStrictEqual(ids(to.inflight), [0, 2])
    assert.strictEqual(to.inflightInputs, 2)
    assert.isTrue(Jobs.isRunning(first!))
    assert.deepStrictEqual(Jobs.inputsOf(third!), [4])
  })

  it("a job that has ended already: false, and nothing changes", () => {
    const queue = queueOf(job(0, [1]), job(1, [2]), job(2, [3]))
    const to = holder()
    const [first, second] = sendTo(queue, to, 2)
    assert.isTrue(Jobs.end(queue, second!))
    assert.isFalse(Jobs.end(queue, second!))
    assert.deepStrictEqual(to.inflight, [first!])
    assert.strictEqual(to.inflightInputs, 1)
    assert.strictEqual(queue.inputs, 1)
    const queued = job(3)
    Jobs.enqueue(queue, queued)
    Jobs.end(queue, queued)
    assert.isFalse(Jobs.end(queue, queued))
    assert.strictEqual(queue.inputs, 1)
  })

  it("a job taken out of a worker that is gone ends without a holder", () => {
    const queue = queueOf(job(0), job(1))
    const to = holder()
    const [, held] = sendTo(queue, to, 2)
    Jobs.abandon(to)
    assert.isTrue(Jobs.end(queue, held!))
    assert.strictEqual(held!.state, Jobs.ENDED)
    assert.strictEqual(queue.inputs, 0)
  })

  it("clears its grace and revoke timers", () => {
    vi.useFakeTimers()
    try {
      const queue = queueOf(job(0), job(1))
      const [first, second] = sendTo(queue, holder(), 2)
      let fired = 0
      Jobs.waitFor(
        first!,
        Clock.system.after(10, () => fired++)
      )
      Jobs.revokeSent(
        second!,
        Clock.system.after(10, () => fired++)
      )
      Jobs.end(queue, first!)
      Jobs.end(queue, second!)
      assert.isUndefined(first!.graceTimer)
      assert.isUndefined(second!.revokeTimer)
      vi.runAllTimers()
      assert.strictEqual(fired, 0)
    } finally {
      vi.useRealTimers()
    }
  })
})

describe("endAt: a worker answered the job at an index", () => {
  it("ends that job and answers it", () => {
    const queue = queueOf(job(0), job(1), job(2))
    const to = holder()
    const [, second] = sendTo(queue, to, 3)
    assert.strictEqual(Jobs.endAt(queue, to, 1), second)
    assert.strictEqual(second!.state, Jobs.ENDED)
    assert.deepStrictEqual(ids(to.inflight), [0, 2])
  })
})

describe("abandon: a worker is gone", () => {
  it("takes out every job it held, in order; none becomes running, none loses its inputs", () => {
    const queue = queueOf(job(0, [1]), job(1, [2]), job(2, [3]))
    const to = holder()
    sendTo(queue, to, 3)
    const jobs = Jobs.abandon(to)
    assert.deepStrictEqual(ids(jobs), [0, 1, 2])
    assert.deepStrictEqual(to.inflight, [])
    assert.strictEqual(to.inflightInputs, 0)
    // until each is ended or queued again, it is SENT with no worker, and none is running
    for (const j of jobs) {
      assert.strictEqual(j.state, Jobs.SENT)
      assert.isUndefined(j.worker)
      assert.isFalse(Jobs.isRunning(j))
    }
    // the one behind the first did not become first: it keeps what it needs to be sent again
    assert.deepStrictEqual(Jobs.inputsOf(jobs[1]!), [2])
    assert.deepStrictEqual(Jobs.inputsOf(jobs[2]!), [3])
  })
})

describe("requeue: SENT → QUEUED, at the front of the queue", () => {
  it("puts the jobs of a gone worker back before the queued ones, in their order", () => {
    const queue = queueOf(job(0), job(1, [1, 2]), job(2, [3]), job(3, [4]))
    const to = holder()
    sendTo(queue, to, 3)
    const [, ...held] = Jobs.abandon(to)
    Jobs.requeue(queue, held, false)
    assert.deepStrictEqual(queuedIds(queue), [1, 2, 3])
    assert.strictEqual(queue.inputs, 4)
    for (const j of held) assert.strictEqual(j.state, Jobs.QUEUED)
    // a worker that died holding jobs was still sent them
    assert.strictEqual(to.jobsSent, 3)
  })

  it("puts jobs back in order into a queue that has emptied", () => {
    const queue = queueOf(job(0), job(1), job(2))
    const to = holder()
    sendTo(queue, to, 4)
    assert.strictEqual(queue.head, 0)
    Jobs.requeue(queue, Jobs.abandon(to).slice(1), false)
    assert.deepStrictEqual(queuedIds(queue), [1, 2])
  })

  it("a requeued job is sent again with its inputs", () => {
    const queue = queueOf(job(0, [1]), job(1, [2]))
    const dead = holder()
    sendTo(queue, dead, 2)
    Jobs.requeue(queue, Jobs.abandon(dead).slice(1), false)
    let seen: ReadonlyArray<unknown> | undefined
    const again = Jobs.sendNext(queue, holder(), 0, (_, j) => {
      seen = Jobs.inputsOf(j)
    })
    assert.strictEqual(again?.id, 1)
    assert.deepStrictEqual(seen, [2])
  })

  it("a job given back (revoked) leaves its holder and no longer counts as sent to it", () => {
    vi.useFakeTimers()
    try {
      const queue = queueOf(job(0, [1]), job(1, [2]), job(2, [3, 4]))
      const to = holder()
      const [first, , third] = sendTo(queue, to, 3)
      let fired = 0
      Jobs.revokeSent(
        third!,
        Clock.system.after(10, () => fired++)
      )
      Jobs.requeue(queue, [third!], true)
      assert.deepStrictEqual(ids(to.inflight), [0, 1])
      assert.strictEqual(to.inflightInputs, 2)
      assert.strictEqual(to.jobsSent, 2)
      assert.strictEqual(third!.state, Jobs.QUEUED)
      assert.isUndefined(third!.worker)
      assert.isFalse(third!.revoking)
      assert.isUndefined(third!.revokeTimer)
      assert.strictEqual(queue.inputs, 2)
      assert.isTrue(Jobs.isRunning(first!))
      vi.runAllTimers()
      assert.strictEqual(fired, 0)
    } finally {
      vi.useRealTimers()
    }
  })

  it("a job taken out of a live holder without being revoked still counts as sent to it", () => {
    const queue = queueOf(job(0), job(1))
    const to = holder()
    const [, second] = sendTo(queue, to, 2)
    Jobs.requeue(queue, [second!], false)
    assert.deepStrictEqual(ids(to.inflight), [0])
    assert.strictEqual(to.jobsSent, 2)
  })
})

describe("isRunning and indexOf", () => {
  it("only the first job a worker holds may be running", () => {
    const queue = queueOf(job(0), job(1), job(2))
    const [first, second] = sendTo(queue, holder(), 2)
    assert.isTrue(Jobs.isRunning(first!))
    assert.isFalse(Jobs.isRunning(second!))
    const [queued] = queue.jobs.filter((j) => j?.state === Jobs.QUEUED)
    assert.isFalse(Jobs.isRunning(queued!))
    Jobs.end(queue, first!)
    assert.isFalse(Jobs.isRunning(first!))
    assert.isTrue(Jobs.isRunning(second!))
  })

  it("indexOf finds a job by its id among those a worker holds, or answers -1", () => {
    const queue = queueOf(job(10), job(11), job(12))
    const to = holder()
    sendTo(queue, to, 2)
    assert.strictEqual(Jobs.indexOf(to, 10), 0)
    assert.strictEqual(Jobs.indexOf(to, 11), 1)
    assert.strictEqual(Jobs.indexOf(to, 12), -1)
    assert.strictEqual(Jobs.indexOf(holder(), 10), -1)
  })
})
