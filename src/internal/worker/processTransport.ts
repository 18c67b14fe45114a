/**
 * The transport of a worker process (see `transport.ts`): the pool's own pair
 * of pipes, fd 3 from the parent and fd 4 to it (`../channel.ts` says why not
 * Node's IPC channel). The parent's frames are numbered (`P.Frame`): a gap, or
 * bytes that are not a frame, mean that something else in the process reads
 * the pipe (a task's timer stealing from fd 3), and the worker ends at once
 * with `P.CHANNEL_LOST_EXIT_CODE`. Answers leave with blocking writes on fd 4,
 * each frame opening with the key of the parent's frame 0 (`P.FirstFrame`).
 *
 * @internal
 */
import * as NodeNet from "node:net"
import * as Channel from "../channel.ts"
import { ArrayIsArray, AtomicsWait, BufferFrom, exitProcess, FsWriteSync } from "../primordials.ts"
import * as P from "../protocol.ts"
import type { Transport } from "./transport.ts"

/** for a blocking wait of 1 ms (Atomics.wait on a private buffer) */
const pause = new Int32Array(new SharedArrayBuffer(4))

/** The transport of this process, configured by the environment the pool spawned it with. */
export const make = (): Transport => {
  const serialization: Channel.Serialization = process.env[P.SERIALIZATION_ENV] === "advanced" ? "advanced" : "json"
  const encode = Channel.encoder(serialization)
  const maxRss = process.env[P.MAX_RSS_ENV]
  let connected = true
  let onGone: () => void = () => {}
  const gone = () => {
    if (!connected) return
    connected = false
    onGone()
  }

  /**
   * Messages from the parent went missing: a task reads the worker's channel.
   * The worker can no longer know which jobs it was sent, nor whether it was
   * asked to drop one it holds: it ends at once, before it starts anything
   * else, and the parent treats it as lost.
   */
  const channelLost = (reason: string): never => {
    try {
      process.stderr.write(`effect-process-pool: a worker lost its channel: ${reason}; it exits\n`)
    } catch {
      // stderr is gone too: the exit code says it
    }
    return exitProcess(P.CHANNEL_LOST_EXIT_CODE)
  }

  const listen: Transport["listen"] = (onBatch, onParentGone) => {
    onGone = onParentGone
    let expected = 0
    const decoder = Channel.decoder(serialization, {
      onMessage: (frame) => {
        if (!ArrayIsArray(frame) || frame[0] !== expected || !ArrayIsArray(frame[1])) {
          return channelLost(`frame ${expected} from the parent went missing`)
        }
        expected++
        if (key === undefined) return keyed(frame)
        onBatch(frame[1] as ReadonlyArray<P.ToWorker>)
      },
      // only the parent writes this pipe: other bytes are what is left of a frame something else read
      onForeign: () => channelLost("part of a frame from the parent went missing")
    })
    const input = new NodeNet.Socket({ fd: Channel.TO_WORKER_FD, readable: true, writable: false })
    input.on("data", (chunk: Buffer) => {
      try {
        decoder.push(chunk)
      } catch (error) {
        channelLost(error instanceof Error ? error.message : String(error))
      }
    })
    input.on("end", gone)
    input.on("error", gone)
  }

  /**
   * The parent's frame 0 gives the key that each frame written back opens
   * with (see `P.FirstFrame`); what the runtime sent before it (`READY`) leaves
   * then.
   */
  let key: number | undefined
  let early: Array<ReadonlyArray<P.FromWorker>> = []
  const keyed = (frame: ReadonlyArray<unknown>) => {
    if (typeof frame[2] !== "number") return channelLost("the parent's first frame carries no key")
    key = frame[2]
    const batches = early
    early = []
    for (const batch of batches) send(batch)
  }

  const send: Transport["send"] = (batch) => {
    if (key === undefined) {
      early.push(batch)
      return
    }
    const frame = encode([key, batch] satisfies P.KeyedFrame)
    const bytes = typeof frame === "string" ? BufferFrom(frame, "utf8") : frame
    let offset = 0
    while (offset < bytes.length && connected) {
      try {
        offset += FsWriteSync(Channel.FROM_WORKER_FD, bytes, offset)
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        // the fd is blocking; EAGAIN only if something made it non-blocking
        if (code === "EAGAIN") AtomicsWait(pause, 0, 0, 1)
        else if (code !== "EINTR") return gone()
      }
    }
  }

  return {
    workerId: Number(process.env[P.WORKER_ENV] ?? -1),
    attributes: { "worker.pid": process.pid },
    maxMemory: maxRss === undefined ? undefined : Number(maxRss),
    memory: () => process.memoryUsage.rss(),
    wire: process.env[P.WIRE_ENV] === "bytes" ? "bytes" : "json",
    listen,
    send,
    exit: exitProcess
  }
}
