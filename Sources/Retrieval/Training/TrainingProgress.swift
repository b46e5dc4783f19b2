// Where a run stands besides its weights and the optimizer's moments: the step, the random
// generator, this epoch's order, the rollbacks so far and the learning-rate scale they left,
// and the best validation recall. A saved state holds it; a resumed run continues from it.
import Neural

public struct TrainingProgress: Sendable, Equatable {
    /// Completed optimiser steps.
    public var step = 0
    public var rng: SeededGenerator
    /// The order of this epoch's pictures.
    public var epochOrder: [Int] = []
    public var learningRateScale = 1.0
    public var rollbacks = 0
    /// Mean recall of the best validation evaluation so far (−1 before the first).
    public var bestRecall = -1.0

    public init(seed: UInt64) {
        rng = SeededGenerator(seed: seed)
    }
}
