/**
 * Scratch files for marker logs that tasks in workers append to.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { inject } from "vitest"

/**
 * A path in a new folder of the run's scratch folder (test/globalSetup.ts,
 * removed when the run ends); the file does not exist yet.
 */
export const tmpFile = (name: string): string =>
  NodePath.join(NodeFs.mkdtempSync(NodePath.join(inject("scratch"), "epp-")), name)

/** The file's lines, or none if it does not exist. */
export const readLines = (file: string): Array<string> =>
  NodeFs.existsSync(file)
    ? NodeFs.readFileSync(file, "utf8")
        .trim()
        .split("\n")
        .filter((l) => l !== "")
    : []
