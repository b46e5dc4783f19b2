// The image tower: conv–(batch norm)–ReLU–max-pool blocks on NHWC input, global average pooling,
// a linear projection to the embedding space and L2 normalisation. Parameters are named
// image.conv1.weight … image.proj.bias, so checkpoints read like the reference's.
import Neural

/// (B, S, S, 3) images → (B, E) unit-length embeddings.
public final class ImageTower: Layer, BufferedModule {
    public let network: Sequential

    /// `channels` gives each block's width; every block but the last halves the resolution.
    public init(channels: [Int], embeddingDimension: Int, batchNorm: Bool, name: String = "image",
                rng: inout SeededGenerator) {
        precondition(!channels.isEmpty, "ImageTower needs at least one block")
        var layers: [any Layer] = []
        var inChannels = 3
        for (i, width) in channels.enumerated() {
            let conv = Conv2D(inChannels: inChannels, outChannels: width, kernelSize: 3, padding: 1,
                              bias: !batchNorm, name: "\(name).conv\(i + 1)", rng: &rng)
            // The first convolution reads data: nobody needs the gradient of its input.
            if i == 0 { conv.propagatesInputGradient = false }
            let pooled = i < channels.count - 1
            // Same math as Conv2D → (BatchNorm2D →) ReLU → MaxPool2D, in fewer trips to memory.
            if batchNorm {
                let norm = BatchNorm2D(channels: width, name: "\(name).norm\(i + 1)")
                layers.append(ConvNormReLUPool(conv: conv, norm: norm, poolSize: pooled ? 2 : 1))
            } else {
                layers.append(ConvReLUPool(conv: conv, poolSize: pooled ? 2 : 1))
            }
            inChannels = width
        }
        layers.append(GlobalAveragePool())
        layers.append(Linear(inputs: inChannels, outputs: embeddingDimension, name: "\(name).proj", rng: &rng))
        layers.append(L2Normalize())
        network = Sequential(layers)
    }

    public var parameters: [Parameter] { network.parameters }
    public var buffers: [Parameter] { network.buffers }
    public func setTraining(_ training: Bool) { network.setTraining(training) }
    public func evaluationCopy() -> any Layer { network.evaluationCopy() }
    public func forward(_ input: Tensor) -> Tensor { network.forward(input) }

    /// Accumulates every parameter's gradient; the input's gradient is not computed.
    @discardableResult
    public func backward(_ gradOutput: Tensor) -> Tensor { network.backward(gradOutput) }

    /// Backward, handing over each layer's parameters as soon as their gradients are final.
    public func backward(_ gradOutput: Tensor, finished: ([Parameter]) -> Void) {
        _ = network.backward(gradOutput) { layer in
            let parameters = layer.parameters
            if !parameters.isEmpty { finished(parameters) }
        }
    }
}
