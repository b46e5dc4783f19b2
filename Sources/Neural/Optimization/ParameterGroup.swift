// Parameters bundled with the optimizer settings they share (weight decay, a learning-rate
// multiplier), plus the two usual ways to form groups: by role (what to decay) and by name
// prefix (which tower, for gradient reports). The optimizers in this folder walk groups.

/// A set of parameters that share weight decay and a learning-rate multiplier.
///
/// Groups exist because not every parameter should be treated alike: decaying a bias, a
/// normalisation gain or the logit temperature pulls it towards a value that means nothing,
/// and a tower may want a smaller learning rate than the other.
public struct ParameterGroup {
    /// A short label for reports ("decay", "no_decay", "image", "text").
    public var name: String
    public var parameters: [Parameter]
    /// Decoupled (AdamW) or L2 (SGD) weight-decay coefficient for every parameter here.
    public var weightDecay: Float
    /// The group's learning rate is the scheduled rate times this.
    public var learningRateMultiplier: Float

    public init(name: String, parameters: [Parameter], weightDecay: Float = 0,
                learningRateMultiplier: Float = 1) {
        precondition(weightDecay >= 0, "group \(name): negative weight decay \(weightDecay)")
        precondition(learningRateMultiplier >= 0,
                     "group \(name): negative learning-rate multiplier \(learningRateMultiplier)")
        self.name = name
        self.parameters = parameters
        self.weightDecay = weightDecay
        self.learningRateMultiplier = learningRateMultiplier
    }

    /// Total number of scalar values in the group.
    public var scalarCount: Int { parameters.reduce(0) { $0 + $1.value.count } }
}

extension ParameterGroup {
    /// True for roles that receive weight decay by default: matrices and embedding tables.
    /// Biases, normalisation parameters and the temperature are never decayed.
    public static func decays(_ role: ParameterRole) -> Bool {
        switch role {
        case .weight, .embedding: return true
        case .bias, .normalization, .temperature: return false
        }
    }

    /// The default optimizer grouping: "decay" (weights, embeddings) with `weightDecay`, and
    /// "no_decay" (biases, normalisation, temperature) with none. Frozen rows (an embedding's
    /// padding row) are skipped by the optimizers themselves, so they get no decay either.
    /// Empty groups are left out; parameter order is kept within each group.
    ///
    /// With `embeddingLearningRateMultiplier` ≠ 1, embedding tables form a third group,
    /// "embeddings", decayed like weights but stepped at that multiple of the rate.
    public static func byRole(_ parameters: [Parameter], weightDecay: Float,
                              embeddingLearningRateMultiplier: Float = 1) -> [ParameterGroup] {
        let separateEmbeddings = embeddingLearningRateMultiplier != 1
        let decayed = parameters.filter { decays($0.role) && !(separateEmbeddings && $0.role == .embedding) }
        let embeddings = separateEmbeddings ? parameters.filter { $0.role == .embedding } : []
        let plain = parameters.filter { !decays($0.role) }
        var groups: [ParameterGroup] = []
        if !decayed.isEmpty { groups.append(ParameterGroup(name: "decay", parameters: decayed, weightDecay: weightDecay)) }
        if !embeddings.isEmpty {
            groups.append(ParameterGroup(name: "embeddings", parameters: embeddings, weightDecay: weightDecay,
                                         learningRateMultiplier: embeddingLearningRateMultiplier))
        }
        if !plain.isEmpty { groups.append(ParameterGroup(name: "no_decay", parameters: plain, weightDecay: 0)) }
        return groups
    }

    /// Groups by the first `depth` components of the dotted name, in order of first
    /// appearance: "image.conv1.weight" → "image", "logit_scale" → "logit_scale". Meant for
    /// gradient reports (one line per tower); settings are left at zero decay, multiplier 1.
    public static func byNamePrefix(_ parameters: [Parameter], depth: Int = 1) -> [ParameterGroup] {
        precondition(depth >= 1, "name-prefix depth must be at least 1, got \(depth)")
        var order: [String] = []
        var members: [String: [Parameter]] = [:]
        for p in parameters {
            let key = p.name.split(separator: ".", omittingEmptySubsequences: false)
                .prefix(depth).joined(separator: ".")
            if members[key] == nil { order.append(key) }
            members[key, default: []].append(p)
        }
        return order.map { ParameterGroup(name: $0, parameters: members[$0]!) }
    }

    /// Groups by explicit name prefixes, first match wins ("image.", "text.", "logit_scale");
    /// parameters matching none go to a final group named `rest` (omitted when empty).
    public static func byNamePrefixes(_ parameters: [Parameter], _ prefixes: [String],
                                      rest: String = "other") -> [ParameterGroup] {
        var members = [[Parameter]](repeating: [], count: prefixes.count + 1)
        for p in parameters {
            let index = prefixes.firstIndex { p.name.hasPrefix($0) } ?? prefixes.count
            members[index].append(p)
        }
        var groups: [ParameterGroup] = []
        for (i, prefix) in prefixes.enumerated() where !members[i].isEmpty {
            let label = prefix.hasSuffix(".") ? String(prefix.dropLast()) : prefix
            groups.append(ParameterGroup(name: label, parameters: members[i]))
        }
        if !members[prefixes.count].isEmpty { groups.append(ParameterGroup(name: rest, parameters: members[prefixes.count])) }
        return groups
    }
}
