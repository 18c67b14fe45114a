/**
 * The real files of the real workloads: every Markdown file over 1 KB under
 * the project's `node_modules` and under `/usr/share/doc` (the system's
 * documentation folder), whatever this machine holds there; the same job cut
 * to {@link SMALL_JOB_FILES} files; and the fixed document of the HTTP
 * workload, a real README repeated until `marked` takes about
 * {@link DOCUMENT_TARGET_MS} to render it here.
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

/** What one render of the HTTP workload's document should cost on the event loop. */
export const DOCUMENT_TARGET_MS = 13

/**
 * Where the document comes from: piscina's README, a real document (prose,
 * lists, tables, code blocks) that is always there, piscina being one of the
 * peers measured.
 */
export const DOCUMENT_SOURCE = new URL("../../node_modules/piscina/README.md", import.meta.url).pathname

/** The document: the source `repeat` times, one after another. */
export const document = (source: string, repeat: number): string =>
  Array.from({ length: repeat }, () => NodeFs.readFileSync(source, "utf8")).join("\n\n")

/** Renders of the calibration, after as many untimed ones for the JIT. */
const CALIBRATION_RENDERS = 30

/** What one render of a text costs: the median of its CPU time and of its wall time (ms). */
export interface RenderCost {
  readonly cpuMs: number
  readonly wallMs: number
}

const medianOf = (xs: Array<number>) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/**
 * The cost of one render of `text` by `render`, after warming up. The
 * calibration goes by the CPU time of this thread, which other people's work
 * on a shared host does not stretch as it stretches the wall time: the
 * document then costs about the same on a busy host as on a quiet one.
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
  return { cpuMs: medianOf(cpu), wallMs: medianOf(wall) }
}

/**
 * How many copies of {@link DOCUMENT_SOURCE} make a document that `render`
 * takes about {@link DOCUMENT_TARGET_MS} of CPU over (marked's cost is about
 * linear in the text), and what one render of it cost.
 */
export const calibrateDocument = (
  render: (text: string) => string
): RenderCost & { readonly repeat: number; readonly chars: number } => {
  const one = renderCost(render, document(DOCUMENT_SOURCE, 1))
  let repeat = Math.max(1, Math.round(DOCUMENT_TARGET_MS / one.cpuMs))
  let cost = renderCost(render, document(DOCUMENT_SOURCE, repeat))
  // one correction step: the cost per copy measured on the first guess
  const better = Math.max(1, Math.round((repeat * DOCUMENT_TARGET_MS) / cost.cpuMs))
  if (better !== repeat) {
    repeat = better
    cost = renderCost(render, document(DOCUMENT_SOURCE, repeat))
  }
  return { ...cost, repeat, chars: document(DOCUMENT_SOURCE, repeat).length }
}
