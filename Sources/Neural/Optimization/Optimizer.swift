// What every optimizer offers the trainer: a step at a given learning rate, and its whole
// state as named tensors so a checkpoint can resume training exactly. Also the helper both
// optimizers use to walk a parameter's storage while skipping its frozen rows.

/// Updates parameters from their accumulated gradients, group by group.
public protocol Optimizer: AnyObject {
    var groups: [ParameterGroup] { get }
    /// Steps taken so far (the `t` of bias correction); saved with the state.
    var stepCount: Int { get }
    /// Applies one update with the scheduled rate; each group uses `learningRate` times its
    /// multiplier. Gradients are read, not cleared.
    func step(learningRate: Float)
    /// L2 norm of the change the last `step` made to each parameter, by name: the numerator
    /// of the update/parameter ratio in `GradientReport`.
    var lastUpdateNorms: [String: Double] { get }
    /// Moments and step count as named tensors ("step", "<param>.exp_avg", …), ready for a
    /// safetensors checkpoint.
    func state() -> [String: Tensor]
    /// Restores what `state()` returned; throws when a tensor is missing or has the wrong shape
    /// (a checkpoint from another model), leaving the optimizer unchanged.
    func load(state: [String: Tensor]) throws
}

/// Why an optimizer state could not be loaded; names the offending entry.
public struct OptimizerStateError: Error, Equatable, CustomStringConvertible {
    public let key: String
    public let problem: String
    public init(key: String, problem: String) {
        self.key = key
        self.problem = problem
    }
    public var description: String { "optimizer state '\(key)': \(problem)" }
}

/// The step count as a one-element tensor; Float holds integers exactly up to 2^24 steps.
func stepTensor(_ step: Int) -> Tensor {
    Tensor(shape: [1], data: [Float(step)])
}

/// Reads back the step count written by `stepTensor`.
func readStep(_ state: [String: Tensor], key: String = "step") throws -> Int {
    guard let t = state[key] else { throw OptimizerStateError(key: key, problem: "missing") }
    guard t.count == 1, let v = t.data.first, v >= 0, v == v.rounded(), v < 16_777_216 else {
        throw OptimizerStateError(key: key, problem: "expected one non-negative whole number, got \(t)")
    }
    return Int(v)
}

/// Fetches a per-parameter state tensor and checks its shape against the parameter.
func readMoment(_ state: [String: Tensor], key: String, shape: [Int]) throws -> Tensor {
    guard let t = state[key] else { throw OptimizerStateError(key: key, problem: "missing") }
    guard t.shape == shape else {
        throw OptimizerStateError(key: key, problem: "shape \(t.shape), parameter has \(shape)")
    }
    return t
}

/// Element ranges of a parameter's storage outside its frozen rows, in order. A parameter
/// without frozen rows is one range; rows are slices of `columns` elements.
func trainableRanges(of parameter: Parameter) -> [Range<Int>] {
    let count = parameter.value.count
    guard !parameter.frozenRows.isEmpty else { return [0..<count] }
    let rows = parameter.value.rows, width = parameter.value.columns
    var ranges: [Range<Int>] = []
    var start = 0
    for row in Set(parameter.frozenRows).sorted() {
        precondition(row >= 0 && row < rows,
                     "\(parameter.name): frozen row \(row) outside shape \(parameter.shape)")
        if row * width > start { ranges.append(start..<(row * width)) }
        start = (row + 1) * width
    }
    if start < count { ranges.append(start..<count) }
    return ranges
}

/// Stops a group list that names one parameter twice (it would be stepped twice).
func checkUniqueNames(_ groups: [ParameterGroup]) {
    var seen = Set<String>()
    for g in groups {
        for p in g.parameters {
            precondition(seen.insert(p.name).inserted, "parameter \(p.name) appears in more than one group")
        }
    }
}
