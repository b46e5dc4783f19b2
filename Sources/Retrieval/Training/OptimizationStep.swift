// One optimiser step on a prepared batch — forward through both towers, the loss, backward,
// gradient norms by tower, clipping, AdamW, clamping the temperature — shared by the trainer
// and the training benchmark so both measure and run the same code. In an `mpirun` job each
// rank runs it on its rows of the global batch and `DataParallel` makes the step the global one.
import Cluster
import Foundation
import Neural
import Text

public struct OptimizationStep {
    public let model: DualEncoder
    public let optimizer: any Optimizer
    public let loss: TrainingLoss
    public let clipNorm: Double?
    /// The groups whose gradients are reported (one per layer, table or scalar).
    public let layers: [ParameterGroup]
    /// Test-only seams into the step; nil in every real run.
    let hooks: (any StepHooks)?
    /// The other ranks of a distributed run; nil for one process.
    let parallel: DataParallel?

    public struct Output {
        /// The loss of the whole batch (every rank's rows); in a distributed run its scores and
        /// embedding gradients are this rank's share.
        public var result: LossResult
        /// The sums the monitor reads of the whole batch's scores.
        public var scores: ScoreSums
        /// Of the whole batch, every rank's rows in rank order.
        public var imageEmbeddings: Tensor
        public var textEmbeddings: Tensor
        /// Gradient L2 norm of each tower, before clipping.
        public var towerNorms: [String: Double]
        /// Gradient, value and update figures of each of `layers`.
        public var groups: [String: GroupGradient]
        /// Global gradient norm before clipping.
        public var totalNorm: Double
        /// False when a non-finite loss or gradient made the step be skipped.
        public var applied: Bool
    }

    /// A step of `model` under `optimizer`; `clipNorm` nil turns clipping off; `layers` nil groups
    /// the parameters by the first two parts of their names ("image.conv1", "logit_scale");
    /// `communicator` (a job of more than one rank) makes each call take this rank's rows of a
    /// global batch.
    public init(model: DualEncoder, optimizer: any Optimizer, loss: TrainingLoss, clipNorm: Double?,
                layers: [ParameterGroup]? = nil, communicator: Communicator? = nil) {
        self.init(model: model, optimizer: optimizer, loss: loss, clipNorm: clipNorm, layers: layers, hooks: nil,
                  communicator: communicator)
    }

    init(model: DualEncoder, optimizer: any Optimizer, loss: TrainingLoss, clipNorm: Double?,
         layers: [ParameterGroup]?, hooks: (any StepHooks)?, communicator: Communicator? = nil) {
        (self.model, self.optimizer, self.loss, self.clipNorm) = (model, optimizer, loss, clipNorm)
        self.layers = layers ?? ParameterGroup.byNamePrefix(model.parameters, depth: 2)
        self.hooks = hooks
        parallel = communicator.flatMap { $0.isDistributed ? DataParallel(communicator: $0, model: model) : nil }
    }

    /// (R, S, S, 3) pictures and their captions, pair i being (images[i], text row i): the whole
    /// batch, or in a distributed run this rank's rows of it (the ranks in order, as
    /// `Communicator.share` splits it), with `mask` always over the whole batch; `step` (from 1)
    /// is for the hooks.
    public func run(images: Tensor, text: EncodedBatch, mask: DuplicateMask?, learningRate: Float, step: Int = 0) -> Output {
        model.setTraining(true)
        let images = hooks?.images(images, step: step) ?? images
        let localImage = hooks?.forwardImage(model, images, step: step) ?? model.image.forward(images)
        let localText = hooks?.forwardText(model, rows: text.batchSize, step: step)
            ?? model.text.forward(text)
        let (imageEmbeddings, textEmbeddings, rows, rowsPerRank) = parallel?.gather(image: localImage, text: localText)
            ?? (localImage, localText, 0..<localImage.rows, [localImage.rows])
        var result = evaluateLoss(image: imageEmbeddings, text: textEmbeddings, mask: mask,
                                  rows: parallel == nil ? nil : rows)
        var scores = ScoreSums(result.scores, excluded: mask?.excluded)
        model.zeroGradients()
        let (gradImage, gradText) = parallel?.sum(&result, scores: &scores, rowsPerRank: rowsPerRank)
            ?? (result.gradImage, result.gradText)
        // The towers' gradients are each rank's part of the sum, sent on as backward finishes
        // them: the text tower (the quicker) first, then the image tower a layer at a time. The
        // temperature's and the bias's come from the global loss, the same on every rank, so
        // they join after the sum.
        let exchange = parallel?.gradientExchange(of: model.image.parameters + model.text.parameters,
                                                  averaging: model.buffers)
        if hooks?.backwardText(step: step) != true { model.text.backward(gradText) }
        exchange?.send(model.text.parameters)
        if hooks?.backwardImage(model, gradImage, step: step) != true {
            if let exchange {
                model.image.backward(gradImage) { exchange.send($0) }
            } else {
                model.image.backward(gradImage)
            }
        }
        exchange?.finish()
        model.logScale.gradient[0] += result.gradLogScale
        model.logitBias?.gradient[0] += result.gradLogitBias
        hooks?.alterGradients(model, step: step)

        let before = GradientReport(groups: layers)
        let total = Double(clipNorm.map { clipGradientNorm(model.parameters, maxNorm: Float($0)) }
                           ?? Float(gradientNorm(model.parameters)))
        let applied = total.isFinite && result.loss.isFinite
        if applied {
            optimizer.step(learningRate: learningRate)
            hooks?.alterLogScale(model, step: step)
            model.clampLogScale()
        }
        let report = before.addingUpdates(applied ? optimizer.lastUpdateNorms : [:], of: layers)
        return Output(result: result, scores: scores, imageEmbeddings: imageEmbeddings, textEmbeddings: textEmbeddings,
                      towerNorms: Self.towerNorms(report), groups: Self.figures(report), totalNorm: total, applied: applied)
    }

    /// The loss's share of the pictures and captions `rows` (all when nil) of the whole batch.
    private func evaluateLoss(image: Tensor, text: Tensor, mask: DuplicateMask?, rows: Range<Int>?) -> LossResult {
        switch loss {
        case .nPair:
            return ContrastiveLoss.nPair(image: image, text: text, logScale: model.logScale.value[0], mask: mask, rows: rows)
        case .hinge(let margin):
            return ContrastiveLoss.hardestNegativeHinge(image: image, text: text, margin: Float(margin), mask: mask, rows: rows)
        case .sigmoid:
            guard let bias = model.logitBias else {
                preconditionFailure("the sigmoid loss needs a model with a logit bias (ModelConfiguration.prepared(for:))")
            }
            return ContrastiveLoss.sigmoid(image: image, text: text, logScale: model.logScale.value[0],
                                           bias: bias.value[0], mask: mask, rows: rows)
        }
    }

    /// Each tower's gradient norm from its groups' ("image.…", "text.…").
    static func towerNorms(_ report: GradientReport) -> [String: Double] {
        var squares: [String: Double] = ["image": 0, "text": 0]
        for group in report.groups {
            let tower = String(group.name.prefix { $0 != "." })
            if squares[tower] != nil { squares[tower]! += group.gradientNorm * group.gradientNorm }
        }
        return squares.mapValues { $0.squareRoot() }
    }

    static func figures(_ report: GradientReport) -> [String: GroupGradient] {
        Dictionary(uniqueKeysWithValues: report.groups.map {
            ($0.name, GroupGradient(gradientNorm: $0.gradientNorm, valueNorm: $0.parameterNorm, updateRatio: $0.updateRatio ?? 0))
        })
    }
}
