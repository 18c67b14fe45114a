/**
 * What a task definition must get right before the pool can use it (`Task.make`,
 * `Task.makeStream`): a Node that runs the pool, a name, and a `module` that a
 * worker resolves to the file the task's author meant. Kept apart from
 * `Task.ts`, the public surface, which only calls `validate`.
 *
 * @internal
 */
import { unsupportedHere } from "./nodeVersion.ts"

/** Throws what a task definition gets wrong: an unsupported Node, a bad name, a `module` a worker cannot find. */
export const validate = (maker: string, name: unknown, module: unknown): void => {
  const unsupported = unsupportedHere()
  if (unsupported !== undefined) throw unsupported
  if (typeof name !== "string" || name.length === 0) {
    throw new TypeError(`Expected \`name\` of ${maker} to be a non-empty string, got ${describe(name)}`)
  }
  if (typeof module !== "string" || module.length === 0) {
    throw new TypeError(
      `Expected \`module\` of task "${name}" to be the URL of the module that exports it (import.meta.url), got ${describe(module)}`
    )
  }
  const refused = moduleRefusal(module)
  if (refused !== undefined) throw new TypeError(`\`module\` of task "${name}" ${refused}`)
}

const describe = (u: unknown): string => `\`${String(u)}\` (${typeof u})`

/**
 * Why a task's `module` cannot be where a worker finds it, if it cannot. A
 * worker imports it from this library's own folder, so a relative path
 * (`"./tasks.js"`) would mean a file of the library's, and a plain path is not
 * a URL: only an absolute URL (`import.meta.url`, `new URL("./tasks.js",
 * import.meta.url).href`) or a package specifier that resolves (`"my-app/tasks"`)
 * names the module the task's author meant.
 */
const moduleRefusal = (module: string): string | undefined => {
  if (URL.canParse(module)) return undefined
  const fix = `use import.meta.url in the module that defines the task, or new URL(${JSON.stringify(module)}, import.meta.url).href`
  if (module.startsWith(".")) {
    return `is a relative path, ${JSON.stringify(module)}, which a worker would resolve against effect-process-pool's own folder: ${fix}`
  }
  if (module.startsWith("/") || /^[A-Za-z]:[\\/]/.test(module)) {
    return `is a file path, ${JSON.stringify(module)}, not a URL: ${fix}`
  }
  try {
    import.meta.resolve(module)
    return undefined
  } catch (error) {
    return `is the package specifier ${JSON.stringify(module)}, which does not resolve (${error instanceof Error ? error.message : String(error)}): ${fix}`
  }
}
