/**
 * Type-checks a folder of generated files (the README's blocks, the doc
 * comments' examples) in one tsc run, with the repo's compiler options and the
 * source condition, so that `import "effect-process-pool"` means src/ as it does
 * in the repo's own files.
 */
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"

const root = new URL("../..", import.meta.url).pathname
const tscBin = NodePath.join(root, "node_modules/typescript/bin/tsc")

/** One error of tsc; `file` and `line` are absent for an error about no file. */
export interface Diagnostic {
  /** relative to the folder checked */
  readonly file?: string
  readonly line?: number
  readonly column?: number
  /** `TS2304` */
  readonly code: string
  /** with the lines of detail tsc indents under it */
  readonly message: string
}

/** How a run of tsc ended. */
export interface Checked {
  readonly status: number | null
  /** what tsc printed, unparsed */
  readonly output: string
  readonly diagnostics: ReadonlyArray<Diagnostic>
}

/**
 * Writes `tsconfig.json` into `dir` (tsconfig.base.json and the source
 * condition) and type-checks every .ts file in it.
 */
export const typecheck = (dir: string): Checked => {
  NodeFs.writeFileSync(
    NodePath.join(dir, "tsconfig.json"),
    JSON.stringify({
      extends: NodePath.relative(dir, NodePath.join(root, "tsconfig.base.json")),
      compilerOptions: { noEmit: true, customConditions: ["effect-process-pool:source"] },
      include: ["*.ts"]
    })
  )
  // Run in `dir`, so that tsc names files relative to it, at the priority of
  // the tests. It once ran at `nice -n 19`, to spare tests in other files that
  // timed work in worker processes; those no longer depend on timing, and on a
  // machine whose cores are all busy at normal priority a niced tsc got almost
  // no CPU: 107 s instead of 2.6 s for the repo's own type-check with two CPU
  // hogs on two cores, past the test's 30 s.
  const tsc = NodeChildProcess.spawnSync(process.execPath, [tscBin, "-p", "tsconfig.json", "--pretty", "false"], {
    cwd: dir,
    encoding: "utf8",
    timeout: 60_000
  })
  const output = tsc.stdout + tsc.stderr + (tsc.error === undefined ? "" : String(tsc.error))
  return { status: tsc.status, output, diagnostics: parse(output) }
}

const located = /^(.+)\((\d+),(\d+)\): error (TS\d+): (.*)$/
const unlocated = /^error (TS\d+): (.*)$/

const parse = (output: string): Array<Diagnostic> => {
  const diagnostics: Array<Diagnostic> = []
  for (const line of output.split("\n")) {
    const at = line.match(located)
    const global = line.match(unlocated)
    if (at !== null) {
      diagnostics.push({ file: at[1]!, line: Number(at[2]), column: Number(at[3]), code: at[4]!, message: at[5]! })
    } else if (global !== null) {
      diagnostics.push({ code: global[1]!, message: global[2]! })
    } else if (line.trim() !== "" && diagnostics.length > 0) {
      const last = diagnostics.pop()!
      diagnostics.push({ ...last, message: `${last.message}\n${line}` })
    }
  }
  return diagnostics
}
