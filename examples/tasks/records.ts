/**
 * A streaming task: it parses a CSV file line by line in a worker and streams
 * its records to the caller as it reads them, so the caller sees the first
 * record at once and never holds the whole file; the file is read only as
 * fast as the caller takes records (back-pressure across the boundary).
 */
import * as NodeFs from "node:fs"
import * as NodeReadline from "node:readline"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Task from "effect-process-pool/Task"

export class Record extends Schema.Class<Record>("Record")({
  id: Schema.Number,
  name: Schema.String,
  amount: Schema.Number
}) {}

export class BadLine extends Schema.TaggedError<BadLine>()("BadLine", { line: Schema.Number, text: Schema.String }) {}

/** The records of the CSV file at `path` (`id,name,amount` lines), in order. */
export const records = Task.makeStream("records", {
  module: import.meta.url,
  payload: Schema.String,
  element: Record,
  error: BadLine,
  run: (path) => {
    let read = 0
    return Stream.fromAsyncIterable(
      NodeReadline.createInterface({ input: NodeFs.createReadStream(path), crlfDelay: Infinity }),
      (error) => new BadLine({ line: read, text: String(error) })
    ).pipe(
      Stream.mapEffect((text) => {
        read++
        const [id, name, amount] = text.split(",")
        const record = new Record({ id: Number(id), name: name ?? "", amount: Number(amount) })
        return Number.isFinite(record.id) && Number.isFinite(record.amount)
          ? Effect.succeed(record)
          : Effect.fail(new BadLine({ line: read, text }))
      }),
      // runs in the worker whenever the stream ends: at its end, or when the caller stops early
      Stream.ensuring(Effect.suspend(() => Effect.log(`closed the file after ${read} lines`)))
    )
  }
})
