/**
 * `deliverFrames` (src/internal/workerKind.ts): the frames a kind reads at
 * once reach the engine joined when each is a batch of records, in order, and
 * one by one otherwise, so that the engine still sees (and drops) a frame
 * that is not a batch as it came.
 */
import { assert, describe, it } from "@effect/vitest"
import { deliverFrames } from "../../src/internal/workerKind.ts"

const delivered = (frames: ReadonlyArray<unknown>) => {
  const seen: Array<unknown> = []
  deliverFrames(frames, (frame) => seen.push(frame))
  return seen
}

describe("deliverFrames", () => {
  it("joins batches read at once into one frame, in order", () => {
    assert.deepStrictEqual(
      delivered([
        [[1, 1]],
        [
          [1, 2],
          [1, 3]
        ],
        [[1, 4]]
      ]),
      [
        [
          [1, 1],
          [1, 2],
          [1, 3],
          [1, 4]
        ]
      ]
    )
  })

  it("hands on a lone frame as it is, and each of a read that holds one that is not a batch", () => {
    assert.deepStrictEqual(delivered([[[1, 1]]]), [[[1, 1]]])
    assert.deepStrictEqual(delivered(["noise"]), ["noise"])
    assert.deepStrictEqual(delivered([[[1, 1]], "noise", [[1, 2]]]), [[[1, 1]], "noise", [[1, 2]]])
    assert.deepStrictEqual(delivered([]), [])
  })
})
