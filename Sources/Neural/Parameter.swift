// Trainable arrays and the protocols every layer follows. Parameters carry a dotted name
// ("image.conv1.weight") and a role, so optimizers, checkpoints and gradient reports walk
// them by name and group them by role without knowing any layer.

/// What a parameter is for; decides its default optimizer group (no decay on biases, norms,
/// the temperature).
public enum ParameterRole: String, Sendable, CaseIterable {
    case weight, bias, normalization, embedding, temperature
}

/// A trainable tensor and the gradient its layers accumulate into with `+=`.
public final class Parameter {
    public let name: String
    public let role: ParameterRole
    public var value: Tensor
    public var gradient: Tensor
    /// Rows of a (rows, width) table that never change: an embedding's padding row.
    /// Optimizers skip them (no update, no decay).
    public var frozenRows: [Int] = []
    /// Rows whose gradient may be non-zero since the last `zeroGradient()`, for tables whose
    /// gradient is sparse (embeddings); nil means the whole gradient is dense.
    public var touchedRows: Set<Int>?

    public init(name: String, value: Tensor, role: ParameterRole) {
        self.name = name
        self.role = role
        self.value = value
        self.gradient = Tensor(zeros: value.shape)
    }

    public var shape: [Int] { value.shape }

    /// Clears the gradient; a sparse table clears only the rows it touched.
    public func zeroGradient() {
        guard let rows = touchedRows else {
            gradient.zero()
            return
        }
        let width = gradient.columns
        gradient.withUnsafeMutableBufferPointer { g in
            for r in rows { (g.baseAddress! + r * width).update(repeating: 0, count: width) }
        }
        touchedRows = []
    }
}

/// Anything that owns parameters and may behave differently in training and evaluation.
public protocol Module: AnyObject {
    /// Every parameter, in a fixed order, named by its full dotted path.
    var parameters: [Parameter] { get }
    /// Switches training behaviour (batch statistics, dropout) on or off.
    func setTraining(_ training: Bool)
}

extension Module {
    public func setTraining(_ training: Bool) {}

    public func zeroGradients() {
        for p in parameters { p.zeroGradient() }
    }

    /// Parameters by full name.
    public var parametersByName: [String: Parameter] {
        Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0) })
    }
}

/// A tensor-to-tensor layer with an explicit backward.
///
/// `forward` keeps what `backward` needs; `backward(gradOutput)` returns the gradient with
/// respect to the input of the last `forward` and adds (`+=`) its parameters' gradients.
public protocol Layer: Module {
    func forward(_ input: Tensor) -> Tensor
    func backward(_ gradOutput: Tensor) -> Tensor
    /// A layer in evaluation mode that shares this one's parameters and buffers but none of its
    /// caches. Inference runs on such a copy, so the original is never written, whatever its
    /// mode, and several threads can infer with one model at once.
    func evaluationCopy() -> any Layer
}

extension Layer {
    /// Layers are called like functions: `let y = conv(x)`.
    public func callAsFunction(_ input: Tensor) -> Tensor { forward(input) }

    /// The evaluation-mode output for `input`, computed on an `evaluationCopy()`: this layer, its
    /// caches and its training mode are left as they were.
    public func infer(_ input: Tensor) -> Tensor { evaluationCopy().forward(input) }
}
