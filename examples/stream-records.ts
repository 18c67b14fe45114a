/**
 * A streaming task (`Task.makeStream`, `ProcessPool.stream`): a worker parses
 * a large CSV file this program writes, and streams its records here, to a
 * consumer slower than the parser. The worker runs at most `bufferSize`
 * records ahead of the consumer, so neither side holds the file; stopping
 * early (`Stream.take`) stops the parse in the worker, which closes the file.
 */
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect, Stream } from "effect"
import { ProcessPool } from "effect-process-pool"
import { records } from "./tasks/records.ts"

const LINES = 200_000
const amountOf = (i: number) => (i * 7919) % 1000

/** Writes the file in a folder of its own, removed when the program's scope closes. */
const bigFile = Effect.acquireRelease(
  Effect.sync(() => {
    const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "records-"))
    const path = NodePath.join(dir, "records.csv")
    const lines: Array<string> = []
    for (let i = 0; i < LINES; i++) lines.push(`${i},name-${i % 97},${amountOf(i)}`)
    NodeFs.writeFileSync(path, `${lines.join("\n")}\n`)
    return path
  }),
  (path) => Effect.sync(() => NodeFs.rmSync(NodePath.dirname(path), { recursive: true, force: true }))
)

const program = Effect.gen(function* () {
  const path = yield* bigFile
  const megabytes = Math.round(NodeFs.statSync(path).size / 1e6)

  // the consumer: slower than the parser (a pause every 10,000 records)
  let count = 0
  let total = 0
  yield* ProcessPool.stream(records, path, { bufferSize: 256 }).pipe(
    Stream.runForEach((record) => {
      count++
      total += record.amount
      return count % 10_000 === 0 ? Effect.sleep("5 millis") : Effect.void
    })
  )
  let expected = 0
  for (let i = 0; i < LINES; i++) expected += amountOf(i)
  yield* Console.log(`parsed ${count} records from a ${megabytes} MB file, total amount ${total}`)
  yield* Console.log(`the same total as the file's: ${total === expected}`)

  // stop after three records: the parse stops in the worker, and the file is closed there
  const first = yield* ProcessPool.stream(records, path).pipe(Stream.take(3), Stream.runCollect)
  yield* Console.log(`the first three: ${first.map((r) => `${r.id}:${r.name}:${r.amount}`).join(" ")}`)
}).pipe(Effect.scoped)

program.pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 1 })), NodeRuntime.runMain)
