// A chain of layers run in order: forward through each, backward through them in reverse.
// Training mode, parameters and buffers are those of the parts, in order.

/// y = layers[n−1](…layers[0](x)); itself a `Layer`, so chains nest.
public final class Sequential: Layer, BufferedModule {
    public let layers: [any Layer]

    public init(_ layers: [any Layer]) {
        self.layers = layers
    }

    public var parameters: [Parameter] { layers.flatMap { $0.parameters } }
    public func evaluationCopy() -> any Layer { Sequential(layers.map { $0.evaluationCopy() }) }
    public var buffers: [Parameter] { layers.flatMap { $0.savedBuffers } }

    public func setTraining(_ training: Bool) {
        for layer in layers { layer.setTraining(training) }
    }

    public func forward(_ x: Tensor) -> Tensor {
        var h = x
        for layer in layers { h = layer.forward(h) }
        return h
    }

    public func backward(_ dy: Tensor) -> Tensor {
        backward(dy) { _ in }
    }

    /// Backward, telling `finished` of each layer once its gradients are final (the last layer
    /// first), so they can be sent on while the layers below work.
    public func backward(_ dy: Tensor, finished: (any Layer) -> Void) -> Tensor {
        var g = dy
        for layer in layers.reversed() {
            g = layer.backward(g)
            finished(layer)
        }
        return g
    }
}
