/**
 * The floor: bare `child_process.fork` children and their IPC, no framework.
 * A "pool" of `workers` children; tasks are dealt round-robin, all at once.
 * Tiny tasks use bench/floorChild.ts (a number → its square, an array → the
 * squares: "single" and "batched"); the CPU-bound and interruption workloads
 * use bench/peers/floorCpuChild.ts (`[name, argument]` → the result).
 */
import * as NodeChildProcess from "node:child_process"
import { once } from "node:events"
import {
  batches,
  bytesPayload,
  type CellConfig,
  checkBytes,
  checkSquares,
  IDLE_MS,
  measureWith,
  metricsOnly,
  range,
  sampleRuns,
  sleep,
  vmRssMb,
  within,
  withSequential
} from "../kit.ts"
import { forkFloor } from "../measure.ts"
import { SPIN_SETTLE_MS } from "./promisePool.ts"

type Child = NodeChildProcess.ChildProcess

const cpuChild = new URL("../peers/floorCpuChild.ts", import.meta.url)
const forkCpu = (): Child => NodeChildProcess.fork(cpuChild, [], { execArgv: [] })

export const WAIT_MS = 120_000

/** Sends one message and waits for the child's next answer. */
const roundTrip = (child: Child, message: unknown): Promise<unknown> =>
  within(
    WAIT_MS,
    "a round trip",
    new Promise((resolve) => {
      child.once("message", resolve)
      child.send(message as NodeChildProcess.Serializable)
    })
  )

const exited = (child: Child): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, "exit").then(() => undefined)

const killAll = async (children: ReadonlyArray<Child>) => {
  for (const child of children) child.kill("SIGKILL")
  await within(10_000, "children exiting", Promise.all(children.map(exited)))
}

/** What `deal` needs of a child or a thread: its 'message' events (bench/impls/threadFloor.ts deals to threads). */
export interface Peer {
  on(event: "message", listener: (message: unknown) => void): unknown
  off(event: "message", listener: (message: unknown) => void): unknown
}

/**
 * Sends `messages` to `children` with `post` and answers the replies in
 * message order (each child answers its messages in order). Without `window`,
 * all at once, round-robin; with it, at most `window` messages in flight per
 * child, each reply releasing the next message to that child.
 */
export const deal = <C extends Peer>(
  children: ReadonlyArray<C>,
  messages: ReadonlyArray<unknown>,
  post: (child: C, message: unknown) => void,
  window = Number.POSITIVE_INFINITY
): Promise<Array<unknown>> =>
  within(
    WAIT_MS,
    "the replies",
    new Promise((resolve) => {
      const replies = new Array<unknown>(messages.length)
      let left = messages.length
      let sent = 0
      /** per child, the indices of its messages in flight, oldest first */
      const inFlight = children.map(() => [] as Array<number>)
      const send = (k: number) => {
        inFlight[k]!.push(sent)
        post(children[k]!, messages[sent++])
      }
      const listeners = children.map((child, k) => {
        const listener = (reply: unknown) => {
          replies[inFlight[k]!.shift()!] = reply
          if (--left === 0) {
            for (const [j, c] of children.entries()) c.off("message", listeners[j]!)
            resolve(replies)
          } else if (sent < messages.length && window !== Number.POSITIVE_INFINITY) send(k)
        }
        child.on("message", listener)
        return listener
      })
      // the first round: everything round-robin, or `window` messages per child
      for (let i = 0; sent < messages.length && i < window * children.length; i++) send(i % children.length)
    })
  )

const sendTo = (child: Child, message: unknown) => {
  child.send(message as NodeChildProcess.Serializable)
}

/** Batched floor: messages in flight per child. A few keep both sides busy; all at once queues them up. */
export const BATCH_WINDOW = 4

const withChildren = async <A>(
  n: number,
  fork: () => Child,
  warm: unknown,
  f: (children: Array<Child>) => Promise<A>
): Promise<A> => {
  const children = range(n).map(() => fork())
  try {
    await Promise.all(children.map((child) => roundTrip(child, warm)))
    return await f(children)
  } finally {
    await killAll(children)
  }
}

const tiny = (config: CellConfig) =>
  withChildren(config.workers, forkFloor, 0, (children) => {
    const inputs = range(config.tinyTasks)
    return sampleRuns(config.runs, async () => {
      const start = performance.now()
      const results = await deal(children, inputs, sendTo)
      const seconds = (performance.now() - start) / 1000
      checkSquares(results as Array<number>, inputs.length)
      return { rate: inputs.length / seconds }
    })
  })

const bulk = (config: CellConfig) =>
  withChildren(config.workers, forkFloor, 0, (children) => {
    const inputs = range(config.bulkInputs)
    return sampleRuns(config.runs, async () => {
      const start = performance.now()
      const results = (
        await deal(children, batches(inputs, config.batch), sendTo, BATCH_WINDOW)
      ).flat() as Array<number>
      const seconds = (performance.now() - start) / 1000
      checkSquares(results, inputs.length)
      return { rate: inputs.length / seconds }
    })
  })

const cpu = (config: CellConfig) =>
  withChildren(config.workers, forkCpu, ["square", 0], (children) =>
    sampleRuns(config.runs, async () => {
      const start = performance.now()
      await deal(
        children,
        range(config.cpuTasks).map(() => ["countPrimes", config.burnLimit]),
        sendTo
      )
      return withSequential(performance.now() - start, config)
    })
  )

/** The tiny-task child of workloads 4 and 6a: bare, or with `effect` loaded first */
const forkTiny = (config: CellConfig) => () => {
  if (config.floorImports === "effect-cached") throw new Error("floorImports effect-cached: a thread floor only")
  return forkFloor("json", config.floorImports)
}

const cold = (config: CellConfig) =>
  sampleRuns(config.runs, async () => {
    const start = performance.now()
    const child = forkTiny(config)()
    try {
      await roundTrip(child, 3)
      return { ms: performance.now() - start }
    } finally {
      await killAll([child])
    }
  })

/** Killing the busy child is the only way to stop it; a new child serves the next task. */
const interrupt = (config: CellConfig) =>
  sampleRuns(config.runs, () =>
    withChildren(config.workers, forkCpu, ["square", 0], async ([a, b]) => {
      a!.send(["spin", config.spinMs])
      b!.send(["spin", config.spinMs])
      await sleep(SPIN_SETTLE_MS)
      const start = performance.now()
      a!.kill("SIGKILL")
      await within(WAIT_MS, "the killed child", exited(a!))
      const resume = performance.now() - start
      const replacement = forkCpu()
      try {
        await roundTrip(replacement, ["square", 3])
      } finally {
        await killAll([replacement])
      }
      return { resume, next: performance.now() - start }
    })
  )

const idleRss = (config: CellConfig) =>
  sampleRuns(
    config.runs,
    () =>
      withChildren(1, forkTiny(config), 3, async ([child]) => {
        await sleep(IDLE_MS)
        return { workerRss: vmRssMb(child!.pid!) }
      }),
    { warmUp: false }
  )

const echoChild = new URL("../peers/floorEchoChild.ts", import.meta.url)

/** Workload 7: a `Uint8Array` to a bare child and back, `serialization: "advanced"` (raw bytes each way). */
const bytes = (config: CellConfig) =>
  withChildren(
    1,
    () => NodeChildProcess.fork(echoChild, [], { serialization: "advanced", execArgv: [] }),
    0,
    async ([child]) => {
      const payload = bytesPayload(config.bytesSize)
      return sampleRuns(config.runs, async () => {
        const start = performance.now()
        const back = await roundTrip(child!, payload)
        const ms = performance.now() - start
        checkBytes(back, payload)
        return { ms }
      })
    }
  )

export const measure = measureWith("the floor", {
  tiny: metricsOnly(tiny),
  bulk: metricsOnly(bulk),
  cpu: metricsOnly(cpu),
  cold: metricsOnly(cold),
  interrupt: metricsOnly(interrupt),
  idleRss: metricsOnly(idleRss),
  bytes: metricsOnly(bytes)
})
