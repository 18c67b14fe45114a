/**
 * One temporary folder for every scratch file of a test run (marker logs,
 * counters), removed when the run ends, whatever its tests did: tests do not
 * each remove theirs, and a failed test must not leave folders behind.
 */
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import type { TestProject } from "vitest/node"

declare module "vitest" {
  export interface ProvidedContext {
    /** the run's scratch folder; see test/helpers/files.ts */
    scratch: string
  }
}

export default function setup(project: TestProject) {
  const scratch = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "epp-test-"))
  project.provide("scratch", scratch)
  return () => NodeFs.rmSync(scratch, { recursive: true, force: true })
}
