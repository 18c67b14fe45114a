/**
 * A worker's stdout and stderr, seen from the parent, whatever its kind: with
 * `stdio: "inherit"` they are written where the parent writes, as they come;
 * with `"log"` each line becomes a log entry (`outputLines.ts`). Either way
 * the parent keeps the last bytes of stderr, to say why a worker that died
 * while starting died (decoded as a stream, so a character split between two
 * reads stays whole).
 *
 * @internal
 */
import type * as Stream from "node:stream"
import { StringDecoder } from "node:string_decoder"
import * as OutputLines from "./outputLines.ts"

/** What the parent keeps of a worker's stderr (its last characters), for a worker that dies while starting. */
const STDERR_TAIL_CHARS = 4_096

export interface WorkerOutput {
  /** The last characters the worker wrote to stderr, trimmed. */
  readonly stderrTail: () => string
}

/**
 * Reads a worker's streams: `stdout` is given only when the pool logs it
 * (with `"inherit"` the worker writes to the parent's own), `stderr` always.
 */
export const attach = (
  stdout: Stream.Readable | null | undefined,
  stderr: Stream.Readable | null | undefined,
  stdio: "inherit" | "log",
  onOutput: (stream: "stdout" | "stderr", line: string) => void
): WorkerOutput => {
  let tail = ""
  const decoder = new StringDecoder("utf8")
  const stderrLines = stdio === "log" ? OutputLines.make((line) => onOutput("stderr", line)) : undefined
  stderr?.on("data", (chunk: Buffer) => {
    tail = (tail + decoder.write(chunk)).slice(-STDERR_TAIL_CHARS)
    if (stderrLines === undefined) process.stderr.write(chunk)
    else stderrLines.push(chunk)
  })
  stderr?.on("end", () => stderrLines?.end())
  if (stdio === "log" && stdout) {
    const stdoutLines = OutputLines.make((line) => onOutput("stdout", line))
    stdout.on("data", (chunk: Buffer) => stdoutLines.push(chunk))
    stdout.on("end", () => stdoutLines.end())
  }
  return { stderrTail: () => tail.trim() }
}
