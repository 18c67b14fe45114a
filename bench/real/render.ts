/**
 * The work of the real workloads, the same function for every implementation:
 * `marked` with its defaults (GitHub-flavoured Markdown), synchronously. A
 * file is read where it is rendered (see bench/real.ts for why paths cross and
 * not contents).
 */
import * as NodeFs from "node:fs"
import { marked } from "marked"

/** Markdown text → HTML. */
export const renderText = (text: string): string => marked.parse(text, { async: false })

/** A Markdown file's path → its HTML. */
export const renderFile = (path: string): string => renderText(NodeFs.readFileSync(path, "utf8"))
