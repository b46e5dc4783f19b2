// One optimiser step on a prepared batch — forward through both towers, the loss, backward,
// gradient norms by tower, clipping, AdamW, clamping the temperature — shared by the trainer
// and the training benchmark so both measure and run the same code.
import Foundation
import Neural
import Text
import Datasets

public struct OptimizationStep {
    public let model: DualEncoder
    public let optimizer: any Optimizer
    public let loss: TrainingLoss
    public let clipNorm: Double?
    /// Test-only faults (see `FaultInjection`); nil in every real run.
    var faults: FaultInjection? = nil
    /// This step's number from 1, for the faults.
    var step = 0
    /// The groups whose gradients are reported (one per layer, table or scalar); nil groups the
    /// model's parameters by the first two parts of their names ("image.conv1", "logit_scale").
    var layers: [ParameterGroup]? = nil

    public struct Output {
        public var result: LossResult
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

    /// A step of `model` under `optimizer`; `clipNorm` nil turns clipping off.
    public init(model: DualEncoder, optimizer: any Optimizer, loss: TrainingLoss, clipNorm: Double?) {
        self.model = model
        self.optimizer = optimizer
        self.loss = loss
        self.clipNorm = clipNorm
    }

    /// (B, S, S, 3) pictures and their captions, pair i being (images[i], text row i).
    public func run(images: Tensor, text: EncodedBatch, mask: DuplicateMask?, learningRate: Float) -> Output {
        model.setTraining(true)
        let images = faults?.images(images, step: step) ?? images
        let imageEmbeddings = faults?.forwardImage(model, images, step: step) ?? model.image.forward(images)
        let textEmbeddings = faults?.forwardText(model, rows: text.batchSize, step: step)
            ?? model.text.forward(text)
        let result: LossResult
        switch loss {
        case .nPair:
            result = ContrastiveLoss.nPair(image: imageEmbeddings, text: textEmbeddings,
                                           logScale: model.logScale.value[0], mask: mask)
        case .hinge(let margin):
            result = ContrastiveLoss.hardestNegativeHinge(image: imageEmbeddings, text: textEmbeddings,
                                                          margin: Float(margin), mask: mask)
        }
        model.zeroGradients()
        if faults?.backwardImage(model, result.gradImage, step: step) != true { model.image.backward(result.gradImage) }
        if faults?.backwardText(step: step) != true { model.text.backward(result.gradText) }
        model.logScale.gradient[0] += result.gradLogScale
        faults?.alterGradients(model, step: step)

        let layers = self.layers ?? ParameterGroup.byNamePrefix(model.parameters, depth: 2)
        let before = GradientReport(groups: layers)
        let total = Double(clipNorm.map { clipGradientNorm(model.parameters, maxNorm: Float($0)) }
                           ?? Float(gradientNorm(model.parameters)))
        let applied = total.isFinite && result.loss.isFinite
        if applied {
            optimizer.step(learningRate: learningRate)
            faults?.alterLogScale(model, step: step)
            model.clampLogScale()
        }
        let report = before.addingUpdates(applied ? optimizer.lastUpdateNorms : [:], of: layers)
        return Output(result: result, imageEmbeddings: imageEmbeddings, textEmbeddings: textEmbeddings,
                      towerNorms: Self.towerNorms(report), groups: Self.figures(report), totalNorm: total, applied: applied)
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
