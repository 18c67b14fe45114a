/**
 * A worker's stdout or stderr as lines, for `stdio: "log"` (each line becomes
 * a log entry). The stream is split on LF as bytes and each line is decoded
 * whole: LF never occurs inside a UTF-8 character, so a character split
 * between two reads of the pipe is decoded once its line is complete (decoding
 * each read apart turned such characters into U+FFFD, 2–3% of lines of
 * `é€😀`).
 *
 * Work is linear in the bytes read: each byte is scanned once, and a line is
 * kept only up to `MAX_LINE_BYTES` (splitting the text of a growing line again
 * at every read took 28 s for a 20 MB line, the worker blocked in `write`).
 * A longer line is cut at a character boundary, and its entry says so and how
 * long the line was.
 *
 * @internal
 */

/**
 * The longest line kept whole in one log entry, in bytes. Logs are read by
 * people and shipped line by line: Docker's json-file driver splits lines at
 * 16 KiB, journald at 48 KiB. 64 KiB keeps any log line meant to be read
 * (a JSON record of a few KB included) and costs at most that much per stream
 * of each worker; a megabytes dump printed on one line becomes an entry of its
 * first 64 KiB, and the rest is dropped.
 */
export const MAX_LINE_BYTES = 64 * 1024

const LF = 0x0a

export interface OutputLines {
  /** Takes a read of the stream; each line it completes goes to `onLine`. */
  readonly push: (chunk: Buffer) => void
  /** The stream ended: a last line without a newline goes to `onLine`. */
  readonly end: () => void
}

/** What a line cut at `kept` bytes of `total` says after its text. */
export const cutNote = (kept: number, total: number): string => `… (line cut at ${kept} bytes of ${total})`

/** Splits a byte stream into lines of at most `maxLineBytes` bytes each (see `MAX_LINE_BYTES`). */
export const make = (onLine: (line: string) => void, maxLineBytes: number = MAX_LINE_BYTES): OutputLines => {
  /** the start of a line begun in an earlier read: up to one byte more than the bound (to cut it at a character boundary) */
  let kept: Buffer | undefined
  let keptBytes = 0
  /** the bytes of that line so far, kept or not; 0 when no line is begun */
  let total = 0

  /** A whole line of `lineBytes`: `bytes` holds its first `length` (one past the bound, for a longer line). */
  const emit = (bytes: Buffer, length: number, lineBytes: number) => {
    if (lineBytes <= maxLineBytes) return onLine(bytes.toString("utf8", 0, length))
    // bytes[maxLineBytes] is the first byte left out; while it continues a
    // character (10xxxxxx), that character starts before the cut: cut before
    // it (at most 3 bytes back in UTF-8; output that is not UTF-8 is cut there)
    let cut = maxLineBytes
    while (cut > maxLineBytes - 3 && (bytes[cut]! & 0xc0) === 0x80) cut--
    onLine(bytes.toString("utf8", 0, cut) + cutNote(cut, lineBytes))
  }

  /** Part of a line that does not end in this read. */
  const add = (chunk: Buffer, from: number, to: number) => {
    total += to - from
    const room = maxLineBytes + 1 - keptBytes
    if (room <= 0) return
    kept ??= Buffer.allocUnsafe(maxLineBytes + 1)
    keptBytes += chunk.copy(kept, keptBytes, from, Math.min(to, from + room))
  }

  const endLine = () => {
    emit(kept!, keptBytes, total)
    keptBytes = 0
    total = 0
  }

  return {
    push: (chunk) => {
      let start = 0
      for (;;) {
        const lf = chunk.indexOf(LF, start)
        if (lf === -1) break
        if (total === 0) {
          // a whole line in this read: decoded in place
          emit(start === 0 ? chunk : chunk.subarray(start), lf - start, lf - start)
        } else {
          add(chunk, start, lf)
          endLine()
        }
        start = lf + 1
      }
      if (start < chunk.length) add(chunk, start, chunk.length)
    },
    end: () => {
      if (total > 0) endLine()
    }
  }
}
