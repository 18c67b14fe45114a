/**
 * Task references that travel: how a runner on another machine, whose copy
 * of the code lives at another path, finds the module of a task that the
 * client knows by `import.meta.url` (a path on the client's machine).
 *
 * The rule, the same on both sides:
 *
 * 1. A module inside an installed package (a path with `node_modules/<name>/`)
 *    travels as the package's name and the path inside the package; a runner
 *    looks for the package in `<root>/node_modules/<name>` only. Not above
 *    the root, as Node's resolution of a bare specifier would: a
 *    `node_modules` folder above a runner's root (a home folder's, a shared
 *    host's `/node_modules`) holds code the deployment did not choose, and
 *    importing a module runs its top-level code (issue #18).
 * 2. Any other `file:` module travels as its path relative to the client's
 *    deployment root (`root`, default the client's working directory); a
 *    runner resolves it against its own root.
 * 3. A module outside the client's root, or not a `file:` URL, cannot
 *    travel: the task fails with `TaskNotFound` at the client, before
 *    anything is sent.
 *
 * The exact rule on the runner: the file it imports is `<root>/<path>` or
 * `<root>/node_modules/<name>/<path>`, joined lexically; a reference whose
 * path has `..` that leaves that folder, an absolute path, a backslash or a
 * NUL, or a package name that is not one (a path in it), is refused. So a
 * client can make a runner import only files whose path is under the
 * runner's own root; symbolic links under the root are followed, as the
 * deployment laid them out (a linked `node_modules` is the deployment's
 * choice).
 *
 * @internal
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as NodeUrl from "node:url"
import * as Result from "effect/Result"
import type { ModuleRef } from "./protocol.ts"

/** A root given as a path or a `file:` URL, as an absolute path. */
export const rootPath = (root: string | URL | undefined): string => {
  if (root === undefined) return process.cwd()
  if (root instanceof URL || root.startsWith("file:")) return NodeUrl.fileURLToPath(root)
  return NodePath.resolve(root)
}

const PACKAGE_NAME = /^(?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i

/** Client side: the reference of a module URL, or why it cannot travel. */
export const toModuleRef = (module: string, root: string): Result.Result<ModuleRef, string> => {
  if (!module.startsWith("file:")) {
    return Result.fail(`only file: modules can travel to a runner, got ${module}`)
  }
  const path = NodeUrl.fileURLToPath(module)
  const parts = path.split(NodePath.sep)
  const nm = parts.lastIndexOf("node_modules")
  if (nm !== -1 && nm + 1 < parts.length) {
    const scoped = parts[nm + 1]!.startsWith("@")
    const nameParts = parts.slice(nm + 1, nm + (scoped ? 3 : 2))
    const inside = parts.slice(nm + (scoped ? 3 : 2))
    if (inside.length > 0) return Result.succeed({ _tag: "Package", name: nameParts.join("/"), path: inside.join("/") })
  }
  const relative = NodePath.relative(root, path)
  if (relative === "" || relative.startsWith("..") || NodePath.isAbsolute(relative)) {
    return Result.fail(
      `${path} is outside the deployment root ${root}; set the client's \`root\` to a folder that holds it`
    )
  }
  return Result.succeed({ _tag: "Root", path: relative.split(NodePath.sep).join("/") })
}

/** `inside` joined to `base`, unless it escapes `base`. */
const within = (base: string, inside: string): string | undefined => {
  if (inside === "" || inside.includes("\0") || NodePath.posix.isAbsolute(inside) || inside.includes("\\")) {
    return undefined
  }
  const resolved = NodePath.resolve(base, ...inside.split("/"))
  return resolved.startsWith(base.endsWith(NodePath.sep) ? base : base + NodePath.sep) ? resolved : undefined
}

/** Runner side: the URL a worker imports for a reference, or why the runner refuses it. */
export const resolveModuleRef = (ref: ModuleRef, root: string): Result.Result<string, string> => {
  switch (ref._tag) {
    case "Root": {
      const path = within(root, ref.path)
      return path === undefined
        ? Result.fail(`the module path ${JSON.stringify(ref.path)} escapes the runner's root ${root}`)
        : Result.succeed(NodeUrl.pathToFileURL(path).href)
    }
    case "Package": {
      if (!PACKAGE_NAME.test(ref.name)) return Result.fail(`${JSON.stringify(ref.name)} is not a package name`)
      const base = NodePath.join(root, "node_modules", ...ref.name.split("/"))
      if (!NodeFs.existsSync(NodePath.join(base, "package.json"))) {
        return Result.fail(
          `the package ${ref.name} is not installed in the runner's ${NodePath.join(root, "node_modules")}`
        )
      }
      const path = within(base, ref.path)
      return path === undefined
        ? Result.fail(`the path ${JSON.stringify(ref.path)} escapes the package ${ref.name}`)
        : Result.succeed(NodeUrl.pathToFileURL(path).href)
    }
  }
}
