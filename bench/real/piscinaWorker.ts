/**
 * piscina's worker file for the real workloads: the default export renders a
 * file from its path, `renderText` (picked with the `name` run option) renders
 * text. A piscina worker file is loaded only in the worker threads, so it may
 * import `marked` at its top, as a piscina user would write it.
 */
import { renderFile } from "./render.ts"

export { renderText } from "./render.ts"

export default renderFile
