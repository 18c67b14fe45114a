/**
 * `mapStream` over an endless input: inputs are taken only as results are
 * consumed (at most `bufferSize` chunks ahead, Python 3.14's `buffersize`),
 * results come in input order, and stopping the consumer stops the work.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect, Stream } from "effect"
import { ProcessPool } from "effect-process-pool"
import { square } from "./tasks/heavy.ts"

function* naturals() {
  for (let n = 1; ; n++) yield n
}

const program = ProcessPool.mapStream(square, naturals(), { chunksize: 4, bufferSize: 2 }).pipe(
  Stream.filter((n) => n % 3 === 1),
  Stream.take(8),
  Stream.runCollect,
  Effect.flatMap((squares) => Console.log(squares.join(" ")))
)

program.pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 2 })), NodeRuntime.runMain)
