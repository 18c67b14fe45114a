/**
 * A progress bar for a terminal, written by hand: the library itself stays
 * free of terminal dependencies, and this is all an example needs. On a
 * terminal it redraws one line; elsewhere (a pipe, CI) it stays silent.
 */
export interface Progress {
  readonly tick: () => void
  readonly done: () => void
}

const WIDTH = 30

export const progress = (label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress => {
  const start = performance.now()
  let count = 0
  const draw = () => {
    if (!stream.isTTY) return
    const elapsed = (performance.now() - start) / 1000
    const rate = count / Math.max(elapsed, 0.001)
    const left = rate > 0 ? (total - count) / rate : Number.POSITIVE_INFINITY
    const filled = Math.round((count / total) * WIDTH)
    const bar = "█".repeat(filled) + "░".repeat(WIDTH - filled)
    const eta = Number.isFinite(left) ? `${left.toFixed(1)} s left` : "…"
    stream.write(`\r${label} ${bar} ${count}/${total} · ${rate.toFixed(1)}/s · ${eta}   `)
  }
  draw()
  return {
    tick: () => {
      count++
      draw()
    },
    done: () => {
      if (stream.isTTY) stream.write("\n")
    }
  }
}
