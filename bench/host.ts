/**
 * What the harnesses write about the machine and the software a run measured:
 * the CPU's model and the installed version of a package, read the same way by
 * bench/bench.ts and bench/real.ts.
 */
import * as NodeFs from "node:fs"

/** The CPU's model name, from /proc/cpuinfo. */
export const cpuModel = (): string => {
  try {
    return /^model name\s*:\s*(.+)$/m.exec(NodeFs.readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "unknown"
  } catch {
    return "unknown"
  }
}

/** The version of a package installed in the project's node_modules, or "?". */
export const packageVersion = (pkg: string): string => {
  try {
    return JSON.parse(NodeFs.readFileSync(new URL(`../node_modules/${pkg}/package.json`, import.meta.url), "utf8"))
      .version
  } catch {
    return "?"
  }
}
