/**
 * The real files of the real workloads: every Markdown file over 1 KB under
 * the project's `node_modules` and under `/usr/share/doc` (the system's
 * documentation folder), whatever this machine holds there; the same job cut
 * to {@link SMALL_JOB_FILES} files; and the fixed document of the HTTP
 * workload, a real README repeated to about 13 ms of `marked` here.
 *
 * Symbolic links are not followed: a linked folder would count its files twice
 * (`node_modules/.bin`, Debian's doc folders linked to another package's).
 * Compressed files (`README.md.gz`, Debian's habit) are not Markdown and are
 * left out.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"

export const ROOTS: ReadonlyArray<string> = [new URL("../../node_modules", import.meta.url).pathname, "/usr/share/doc"]

/** "Over 1 KB": more than this many bytes. */
export const MIN_BYTES = 1024

const MARKDOWN = /\.(md|markdown)$/i

export interface MarkdownFile {
  readonly path: string
  readonly bytes: number
}

/** Every Markdown file over {@link MIN_BYTES} under `root`, symbolic links not followed; unreadable folders skipped. */
const walk = (root: string, out: Array<MarkdownFile>) => {
  let entries: Array<NodeFs.Dirent>
  try {
    entries = NodeFs.readdirSync(root, { withFileTypes: true })
  } catch {
    return
  }
  for (const entry of entries) {
    const path = NodePath.join(root, entry.name)
    if (entry.isDirectory()) walk(path, out)
    else if (entry.isFile() && MARKDOWN.test(entry.name)) {
      const bytes = NodeFs.statSync(path).size
      if (bytes > MIN_BYTES) out.push({ path, bytes })
    }
  }
}

/** The corpus, sorted by path so that every implementation gets the same files in the same order. */
export const findMarkdown = (roots: ReadonlyArray<string> = ROOTS): Array<MarkdownFile> => {
  const out: Array<MarkdownFile> = []
  for (const root of roots) walk(root, out)
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

/** How many files the start-up job renders. */
export const SMALL_JOB_FILES = 30

/**
 * `n` files spread evenly over the sorted corpus: a sample of every size and
 * every source, not the first folder's files (the first 30 by path would all
 * be one package's docs under `node_modules`).
 */
export const spread = <A>(files: ReadonlyArray<A>, n: number): Array<A> =>
  files.length <= n ? [...files] : Array.from({ length: n }, (_, i) => files[Math.floor((i * files.length) / n)]!)

// --- the HTTP workload's document -------------------------------------------------

/**
 * Where the document comes from: piscina's README, a real document (prose,
 * lists, tables, code blocks) that is always there, piscina being one of the
 * peers measured.
 */
export const DOCUMENT_SOURCE = new URL("../../node_modules/piscina/README.md", import.meta.url).pathname

/**
 * The fixed document is {@link DOCUMENT_SOURCE} this many times: about 13 ms
 * of `marked` here (measured on a busy host: piscina's README took 2.6 ms of
 * wall, five copies, 192 KB, 12–13 ms of CPU). Fixed rather than calibrated at
 * each run (a calibration on a busy host picked two copies), so that runs
 * render the same document; each run measures what it cost ({@link renderCost})
 * and says so in its results.
 */
export const DOCUMENT_REPEAT = 5

/** The document: the source `repeat` times, one after another. */
export const document = (source: string, repeat: number): string =>
  Array.from({ length: repeat }, () => NodeFs.readFileSync(source, "utf8")).join("\n\n")

/** Timed renders of {@link renderCost}, after as many untimed ones for the JIT. */
const CALIBRATION_RENDERS = 30

/** What one render of a text costs (ms): the fastest of the calibration's renders, their median, and the median CPU time. */
export interface RenderCost {
  readonly fastestMs: number
  readonly medianMs: number
  readonly cpuMs: number
}

const medianOf = (xs: Array<number>) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/**
 * The cost of one render of `text` by `render`, after warming up. The fastest
 * render is what a render costs with a core to itself; on a shared host the
 * median wall time is stretched by other people's work, and so is the CPU
 * time (these cores are hyper-threads: a busy sibling slowed a busy loop by up
 * to ~1.8× here).
 */
export const renderCost = (render: (text: string) => string, text: string): RenderCost => {
  for (let i = 0; i < CALIBRATION_RENDERS; i++) render(text)
  const cpu: Array<number> = []
  const wall: Array<number> = []
  for (let i = 0; i < CALIBRATION_RENDERS; i++) {
    const cpuStart = process.threadCpuUsage()
    const start = performance.now()
    render(text)
    wall.push(performance.now() - start)
    const used = process.threadCpuUsage(cpuStart)
    cpu.push((used.user + used.system) / 1000)
  }
  return { fastestMs: Math.min(...wall), medianMs: medianOf(wall), cpuMs: medianOf(cpu) }
}
