/**
 * Scratch files for marker logs that tasks in workers append to.
 */
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"

/** A path in a new temporary folder; the file does not exist yet. */
export const tmpFile = (name: string): string =>
  NodePath.join(NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "epp-")), name)

/** The file's lines, or none if it does not exist. */
export const readLines = (file: string): Array<string> =>
  NodeFs.existsSync(file)
    ? NodeFs.readFileSync(file, "utf8")
        .trim()
        .split("\n")
        .filter((l) => l !== "")
    : []
