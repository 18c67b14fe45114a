/**
 * A kind of worker that lives in memory (the seam's second implementation,
 * see src/internal/workerKind.ts): the test plays each worker, reading what
 * the engine sent it and answering, dying or being slow as the case needs.
 * With a fake clock (fakeClock.ts), the engine's races are scripted orders of
 * events instead of timings hunted under load.
 */
import * as P from "../../src/internal/protocol.ts"
import type { Handlers, WorkerEnd, WorkerKind } from "../../src/internal/workerKind.ts"
import { microtasks } from "./fakeClock.ts"

export interface FakeWorker {
  readonly id: number
  /** every message the engine sent it, in order */
  readonly received: Array<P.ToWorker>
  /** the engine killed it (its end comes when the test says: `end`) */
  killed: boolean
  gone: boolean
  /** part of a message from it is "still arriving" */
  receiving: boolean
  /** the channel can no longer carry messages to it (see `Handle.accepting`) */
  accepting: boolean
  /** Says it is ready. */
  readonly ready: () => Promise<void>
  /** Sends one frame of records, as the worker would. */
  readonly send: (...records: ReadonlyArray<unknown>) => Promise<void>
  /** Answers job `id` with the values of its inputs (saying first, as a worker does, that its task is loaded). */
  readonly done: (id: number, values: ReadonlyArray<unknown>) => Promise<void>
  /** Confirms that job `id` stopped without running (or was interrupted while running). */
  readonly interrupted: (id: number) => Promise<void>
  /** The worker is gone: how, as its kind would say (a crash by default). */
  readonly end: (end?: Partial<WorkerEnd>) => Promise<void>
  /** Its channel is broken (the engine is told, as a kind tells it). */
  readonly broken: (reason: string) => Promise<void>
  /** The `Run`s it was sent, in order. */
  readonly runs: () => Array<P.Run>
  /** The ids of the jobs it was asked to interrupt, in order. */
  readonly interrupts: () => Array<number>
  /** The ids of the jobs it was asked to give back, in order. */
  readonly revokes: () => Array<number>
  /** Whether it was asked to shut down. */
  readonly shutdown: () => boolean
}

export interface FakeKind {
  readonly kind: WorkerKind
  /** every worker spawned, in order */
  readonly workers: Array<FakeWorker>
  /** the kind was closed (the pool has no worker left) */
  closed: boolean
}

const crash: WorkerEnd = {
  exitCode: 1,
  signal: null,
  detail: "exited with code 1",
  killedFromOutside: false,
  lostChannel: undefined,
  spawnError: undefined,
  stderr: ""
}

export const make = (): FakeKind => {
  const fake: FakeKind = {
    workers: [],
    closed: false,
    kind: {
      name: "fake",
      spawn: (id, handlers: Handlers) => {
        const worker = makeWorker(id, handlers)
        fake.workers.push(worker)
        return {
          label: `fake ${id}`,
          pid: 1000 + id,
          send: (messages) => {
            if (!worker.gone) worker.received.push(...messages)
          },
          accepting: () => worker.accepting && !worker.gone,
          kill: () => {
            worker.killed = true
          },
          receiving: () => worker.receiving
        }
      },
      close: () => {
        fake.closed = true
      }
    }
  }
  return fake
}

const makeWorker = (id: number, handlers: Handlers): FakeWorker => {
  const loaded = new Set<number>()
  const worker: FakeWorker = {
    id,
    received: [],
    killed: false,
    gone: false,
    receiving: false,
    accepting: true,
    ready: () => worker.send([P.READY]),
    send: async (...records) => {
      handlers.onFrame(records)
      await microtasks()
    },
    done: async (id, values) => {
      const ref = worker.runs().find((run) => run[1] === id)?.[2]
      if (ref !== undefined && !loaded.has(ref)) {
        loaded.add(ref)
        await worker.send([P.LOADED, ref])
      }
      await worker.send([P.DONE, id, values])
    },
    interrupted: (id) => worker.send([P.OUTCOMES, id, [[P.INTERRUPTED]]]),
    end: async (end) => {
      if (worker.gone) return
      worker.gone = true
      handlers.onEnd({
        ...crash,
        ...(worker.killed ? { exitCode: null, signal: "SIGKILL", detail: "was killed by SIGKILL" } : {}),
        ...end
      })
      await microtasks()
    },
    broken: async (reason) => {
      handlers.onBroken(reason)
      await microtasks()
    },
    runs: () => worker.received.filter((m): m is P.Run => m[0] === P.RUN),
    interrupts: () => worker.received.filter((m) => m[0] === P.INTERRUPT).map((m) => m[1] as number),
    revokes: () => worker.received.filter((m) => m[0] === P.REVOKE).map((m) => m[1] as number),
    shutdown: () => worker.received.some((m) => m[0] === P.SHUTDOWN)
  }
  return worker
}
