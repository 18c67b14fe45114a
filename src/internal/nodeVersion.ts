/**
 * The Node versions the library runs on (`engines` in package.json), checked
 * where a program first meets it: `Task.make`, which every task module calls
 * at its top level, and `ProcessPool.make`.
 *
 * Why refuse an older Node rather than let it try: much works there, and what
 * does not fails silently. `import.meta.main` is undefined before Node 22.18,
 * so the `if (import.meta.main)` guard that keeps a task module's program out
 * of the workers never runs the program at all (seen with `tsx` on Node 20:
 * the program exits 0 having done nothing). `Task.make` runs before any such
 * guard, so a program that would do nothing ends with this error instead;
 * `ProcessPool.make` catches a program that makes a pool without a task.
 *
 * @internal
 */

/** The oldest Node supported, as `[major, minor]`; package.json's `engines` says the same (a test checks). */
export const MINIMUM: readonly [major: number, minor: number] = [22, 19]

/**
 * Why `version` (a `process.versions.node`) is not supported, or `undefined`
 * if it is, or if it cannot be read (a runtime that reports something else
 * is not refused on a guess).
 */
export const unsupportedNode = (version: string, execPath: string): string | undefined => {
  const match = /^(\d+)\.(\d+)\./.exec(version)
  if (match === null) return undefined
  const major = Number(match[1])
  const minor = Number(match[2])
  if (major > MINIMUM[0] || (major === MINIMUM[0] && minor >= MINIMUM[1])) return undefined
  return (
    `effect-process-pool needs Node ${MINIMUM[0]}.${MINIMUM[1]} or later, and this is Node ${version} ` +
    `(${execPath}). Before Node 22.18 \`import.meta.main\` is undefined, so an \`if (import.meta.main)\` guard ` +
    "would never run its program. Run it with a newer Node: `npm install --save-dev node@24` makes npm " +
    "scripts and npx use Node 24 (nvm or volta work too)."
  )
}

/** What `Task.make` throws and `ProcessPool.make` dies with on an unsupported Node. */
class UnsupportedNodeError extends Error {
  override name = "UnsupportedNodeError"
}

let here: string | null | undefined

/** The error for this process's Node, if it is not supported (the check is made once). */
export const unsupportedHere = (): Error | undefined => {
  if (here === undefined) here = unsupportedNode(process.versions.node, process.execPath) ?? null
  return here === null ? undefined : new UnsupportedNodeError(here)
}
