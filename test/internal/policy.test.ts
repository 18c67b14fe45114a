import { assert, describe, it } from "@effect/vitest"
import * as Policy from "../../src/internal/policy.ts"

// Expected figures are written out (50 ms, 128, 100 ms, 5 s...) rather than
// derived from the constants, so that a changed constant fails a test here.

/** A worker as the policies read it: `inflight` jobs, a pace, open unless said otherwise. */
const load = (
  inflight: number,
  serviceMs = Number.NaN,
  { open = true, jobsSent = 0 }: { readonly open?: boolean; readonly jobsSent?: number } = {}
): Policy.Load => ({ open, inflight: { length: inflight }, serviceMs, jobsSent })

/** The demand of a pool with nothing going on, with `over` changed. */
const demand = (over: Partial<Policy.Demand>): Policy.Demand => ({
  live: 0,
  starting: 0,
  waiting: 0,
  recycling: 0,
  minWorkers: 0,
  maxWorkers: 8,
  ...over
})

describe("window: how many jobs a worker holds in all, by its pace", () => {
  it("a worker that has not answered yet (NaN pace) holds one job, none ahead", () => {
    assert.strictEqual(Policy.window(Number.NaN), 1)
  })

  it("a worker whose jobs take 50 ms or more holds none ahead", () => {
    assert.strictEqual(Policy.window(50), 1)
    assert.strictEqual(Policy.window(1_000), 1)
    assert.strictEqual(Policy.window(Number.POSITIVE_INFINITY), 1)
  })

  it("a worker whose jobs take just under 50 ms holds one ahead", () => {
    assert.strictEqual(Policy.window(49.9), 2)
    assert.strictEqual(Policy.window(10), 2)
    assert.strictEqual(Policy.window(2), 2)
  })

  it("a faster worker holds about 2 ms of its expected work ahead", () => {
    assert.strictEqual(Policy.window(1), 3)
    assert.strictEqual(Policy.window(0.5), 5)
    assert.strictEqual(Policy.window(0.3), 7)
    assert.strictEqual(Policy.window(0.1), 21)
  })

  it("a worker holds at most 512 jobs ahead, even when its jobs take no measurable time", () => {
    assert.strictEqual(Policy.window(0.01), 201)
    assert.strictEqual(Policy.window(0.002), 513)
    assert.strictEqual(Policy.window(0), 513)
    assert.strictEqual(Policy.window(-1), 513)
  })
})

describe("room: how many more jobs a worker is sent now", () => {
  it("a worker that is not open is sent nothing", () => {
    assert.strictEqual(Policy.room(load(0, 0.1, { open: false }), undefined), 0)
    assert.strictEqual(Policy.room(load(0, Number.NaN, { open: false }), undefined), 0)
  })

  it("an idle worker is sent its whole window", () => {
    assert.strictEqual(Policy.room(load(0), undefined), 1)
    assert.strictEqual(Policy.room(load(0, 0.5), undefined), 5)
    assert.strictEqual(Policy.room(load(0, 0.1), undefined), 21)
  })

  it("a worker of unknown or slow pace that holds a job is sent nothing until it answers", () => {
    assert.strictEqual(Policy.room(load(1), undefined), 0)
    assert.strictEqual(Policy.room(load(1, 100), undefined), 0)
  })

  it("a worker that holds a job and may hold one ahead is sent that one", () => {
    assert.strictEqual(Policy.room(load(1, 10), undefined), 1)
    assert.strictEqual(Policy.room(load(2, 10), undefined), 0)
  })

  it("a busy worker is topped up only once it holds half its window or less, and then up to the full window", () => {
    assert.strictEqual(Policy.window(0.4), 6)
    assert.strictEqual(Policy.room(load(1, 0.4), undefined), 5)
    assert.strictEqual(Policy.room(load(3, 0.4), undefined), 3)
    assert.strictEqual(Policy.room(load(4, 0.4), undefined), 0)
    assert.strictEqual(Policy.room(load(5, 0.4), undefined), 0)
    // an odd window: more than half is sent nothing
    assert.strictEqual(Policy.room(load(10, 0.1), undefined), 11)
    assert.strictEqual(Policy.room(load(11, 0.1), undefined), 0)
  })

  it("maxTasksPerWorker caps room at what the worker may still be sent over its life", () => {
    assert.strictEqual(Policy.room(load(0, 0.1, { jobsSent: 7 }), 10), 3)
    assert.strictEqual(Policy.room(load(0, 0.1, { jobsSent: 9 }), 10), 1)
    assert.strictEqual(Policy.room(load(0, 0.1, { jobsSent: 10 }), 10), 0)
    assert.strictEqual(Policy.room(load(0, 0.1, { jobsSent: 7 }), undefined), 21)
  })

  it("maxTasksPerWorker never adds room beyond the window", () => {
    assert.strictEqual(Policy.room(load(0, Number.NaN), 10), 1)
    assert.strictEqual(Policy.room(load(0, 0.5, { jobsSent: 2 }), 1_000), 5)
  })
})

describe("leastLoaded: which worker gets the next jobs", () => {
  it("picks the worker with room that holds the fewest jobs, with its room", () => {
    const a = load(3, 0.1)
    const b = load(1, 0.1)
    const c = load(2, 0.1)
    const best = Policy.leastLoaded([a, b, c], undefined)
    assert.isDefined(best)
    assert.strictEqual(best[0], b)
    assert.strictEqual(best[1], 20)
  })

  it("passes over workers without room, however few jobs they hold", () => {
    const closed = load(0, 0.1, { open: false })
    const waiting = load(1)
    const full = load(0, 0.1, { jobsSent: 5 })
    const busy = load(2, 0.1, { jobsSent: 2 })
    const best = Policy.leastLoaded([closed, waiting, full, busy], 5)
    assert.strictEqual(best?.[0], busy)
    assert.strictEqual(best?.[1], 3)
  })

  it("a worker near its maxTasksPerWorker gets only what it may still be sent", () => {
    const best = Policy.leastLoaded([load(0, 0.1, { jobsSent: 8 }), load(3, 0.1)], 10)
    assert.strictEqual(best?.[1], 2)
  })

  it("is undefined when no worker has room", () => {
    assert.isUndefined(Policy.leastLoaded([], undefined))
    assert.isUndefined(Policy.leastLoaded([load(1), load(0, 0.1, { open: false })], undefined))
  })

  it("among workers that hold as many jobs, picks the first", () => {
    const a = load(1, 0.1)
    const b = load(1, 0.1)
    assert.strictEqual(Policy.leastLoaded([a, b], undefined)?.[0], a)
    assert.strictEqual(Policy.leastLoaded([b, a], undefined)?.[0], b)
  })
})

describe("isLeastLoaded: whether to keep filling a worker", () => {
  it("holds while no other worker with room holds fewer jobs", () => {
    const a = load(2, 0.1)
    assert.isTrue(Policy.isLeastLoaded(a, [a, load(2, 0.1), load(5, 0.1)], undefined))
    assert.isTrue(Policy.isLeastLoaded(a, [a], undefined))
  })

  it("fails once another worker with room holds fewer jobs", () => {
    const a = load(2, 0.1)
    assert.isFalse(Policy.isLeastLoaded(a, [a, load(1, 0.1)], undefined))
  })

  it("a worker holding as many jobs as another is still least loaded", () => {
    const a = load(3, 0.1)
    const b = load(3, 0.1)
    assert.isTrue(Policy.isLeastLoaded(a, [a, b], undefined))
    assert.isTrue(Policy.isLeastLoaded(b, [a, b], undefined))
  })

  it("a lighter worker without room does not count", () => {
    const a = load(2, 0.1)
    const others = [load(0, 0.1, { open: false }), load(1), load(0, 0.1, { jobsSent: 4 })]
    assert.isTrue(Policy.isLeastLoaded(a, [a, ...others], 4))
  })
})

describe("stealFrom: which worker an idle one takes a held job back from", () => {
  it("takes from the worker that holds the most jobs", () => {
    const idle = load(0, 0.1)
    const a = load(2, 0.1)
    const b = load(5, 0.1)
    const c = load(3, 0.1)
    assert.strictEqual(Policy.stealFrom(idle, [idle, a, b, c]), b)
  })

  it("no worker with fewer than 2 jobs is a donor: its one job may be running", () => {
    const idle = load(0, 0.1)
    assert.isUndefined(Policy.stealFrom(idle, [idle, load(1, 0.1), load(0, 0.1)]))
    const two = load(2, 0.1)
    assert.strictEqual(Policy.stealFrom(idle, [idle, load(1, 0.1), two]), two)
  })

  it("never takes from the idle worker itself", () => {
    const idle = load(3, 0.1)
    assert.isUndefined(Policy.stealFrom(idle, [idle, load(1, 0.1)]))
  })

  it("among workers that hold as many jobs, takes from the first", () => {
    const idle = load(0, 0.1)
    const a = load(3, 0.1)
    const b = load(3, 0.1)
    assert.strictEqual(Policy.stealFrom(idle, [idle, a, b]), a)
    assert.strictEqual(Policy.stealFrom(idle, [b, idle, a]), b)
  })

  it("a worker that takes no more work still gives its held jobs away", () => {
    const idle = load(0, 0.1)
    const retiring = load(3, 0.1, { open: false })
    assert.strictEqual(Policy.stealFrom(idle, [idle, retiring]), retiring)
  })
})

describe("workersWanted: how many workers to start now", () => {
  it("starts a worker for each waiting job", () => {
    assert.strictEqual(Policy.workersWanted(demand({ waiting: 3 })), 3)
    assert.strictEqual(Policy.workersWanted(demand({ live: 2, waiting: 3 })), 3)
  })

  it("a worker that is starting counts as serving one waiting job", () => {
    assert.strictEqual(Policy.workersWanted(demand({ live: 2, starting: 2, waiting: 3 })), 1)
    assert.isAtMost(Policy.workersWanted(demand({ live: 3, starting: 3, waiting: 3 })), 0)
  })

  it("never starts more than maxWorkers live", () => {
    assert.strictEqual(Policy.workersWanted(demand({ live: 6, waiting: 10 })), 2)
    assert.isAtMost(Policy.workersWanted(demand({ live: 8, waiting: 10 })), 0)
    assert.isAtMost(Policy.workersWanted(demand({ live: 8, recycling: 2 })), 0)
  })

  it("keeps at least minWorkers live, with nothing to do", () => {
    assert.strictEqual(Policy.workersWanted(demand({ minWorkers: 2 })), 2)
    assert.strictEqual(Policy.workersWanted(demand({ live: 1, starting: 1, minWorkers: 2 })), 1)
    assert.isAtMost(Policy.workersWanted(demand({ live: 3, minWorkers: 2 })), 0)
  })

  it("minWorkers is a floor, not an addition to the workers the jobs want", () => {
    assert.strictEqual(Policy.workersWanted(demand({ waiting: 5, minWorkers: 2 })), 5)
    assert.strictEqual(Policy.workersWanted(demand({ waiting: 1, minWorkers: 2 })), 2)
  })

  it("starts a replacement for each worker finishing its last job, whatever the queue holds", () => {
    assert.strictEqual(Policy.workersWanted(demand({ live: 2, recycling: 1 })), 1)
    assert.strictEqual(Policy.workersWanted(demand({ live: 2, recycling: 2 })), 2)
    // a worker that is starting does not stand in for a replacement
    assert.strictEqual(Policy.workersWanted(demand({ live: 2, starting: 1, recycling: 2 })), 2)
    // waiting jobs that want more workers than the replacements get them
    assert.strictEqual(Policy.workersWanted(demand({ live: 2, waiting: 4, recycling: 1 })), 4)
  })

  it("replacements are capped by maxWorkers too", () => {
    assert.strictEqual(Policy.workersWanted(demand({ live: 7, recycling: 3 })), 1)
  })
})

describe("backoffMs: how long a failed start waits", () => {
  it("the first failure waits 100 ms and each next one twice as long", () => {
    assert.deepStrictEqual([1, 2, 3, 4, 5, 6].map(Policy.backoffMs), [100, 200, 400, 800, 1_600, 3_200])
  })

  it("the wait is never over 5 s", () => {
    assert.strictEqual(Policy.backoffMs(7), 5_000)
    assert.strictEqual(Policy.backoffMs(100), 5_000)
    assert.strictEqual(Policy.backoffMs(10_000), 5_000)
  })

  it("no failure waits like the first", () => {
    assert.strictEqual(Policy.backoffMs(0), 100)
  })
})

describe("serviceTime: a worker's moving average of time per job", () => {
  it("the first sample is the average", () => {
    assert.strictEqual(Policy.serviceTime(Number.NaN, 12), 12)
  })

  it("each next sample moves the average 30% of the way towards it", () => {
    assert.approximately(Policy.serviceTime(10, 20), 13, 1e-9)
    assert.approximately(Policy.serviceTime(10, 0), 7, 1e-9)
    assert.strictEqual(Policy.serviceTime(10, 10), 10)
  })

  it("settles at a steady pace", () => {
    let average = Policy.serviceTime(Number.NaN, 100)
    for (let i = 0; i < 40; i++) average = Policy.serviceTime(average, 5)
    assert.approximately(average, 5, 0.01)
  })
})
