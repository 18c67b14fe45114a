/**
 * Task references that travel: how a runner on another machine, whose copy
 * of the code lives at another path, finds the module of a task that the
 * client knows by `import.meta.url` (a path on the client's machine).
 *
 * The rule, the same on both sides:
 *
 * 1. A module inside an installed package (a path with `node_modules/<name>/`)
 *    travels as the package's name and the path inside the package; a runner
 *    finds the package by walking up from its root through `node_modules`
 *    folders, as Node resolves a bare specifier.
 * 2. Any other `file:` module travels as its path relative to the client's
 *    deployment root (`root`, default the client's working directory); a
 *    runner resolves it against its own root.
 * 3. A module outside the client's root, or not a `file:` URL, cannot
 *    travel: the task fails with `TaskNotFound` at the client, before
 *    anything is sent.
 *
 * A runner refuses a reference that would escape its root (or its package):
 * `..` segments, absolute paths, a package name with a path in it. So a
 * client can make a runner import only modules under the runner's own root.
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
      for (let dir = root; ; dir = NodePath.dirname(dir)) {
        const base = NodePath.join(dir, "node_modules", ...ref.name.split("/"))
        if (NodeFs.existsSync(NodePath.join(base, "package.json"))) {
          const path = within(base, ref.path)
          return path === undefined
            ? Result.fail(`the path ${JSON.stringify(ref.path)} escapes the package ${ref.name}`)
            : Result.succeed(NodeUrl.pathToFileURL(path).href)
        }
        if (NodePath.dirname(dir) === dir) {
          return Result.fail(`the package ${ref.name} is not installed under the runner's root ${root}`)
        }
      }
    }
  }
}
