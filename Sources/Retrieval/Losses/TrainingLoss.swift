// Which loss trains the towers: the one name the trainer, the monitor, the metrics file and the
// CLI share for it. Its coding is the one saved training states already use.

/// Which loss trains the towers.
public enum TrainingLoss: Codable, Sendable, Equatable {
    /// Symmetric N-pair cross-entropy with a learned temperature (CLIP).
    case nPair
    /// VSE++ max of hinges on the hardest in-batch negative, with this margin.
    case hinge(margin: Double)
    /// SigLIP's pairwise sigmoid loss with a learned temperature and a learned logit bias.
    case sigmoid

    /// Whether the loss scales the cosines by the learned temperature exp(s).
    public var hasTemperature: Bool {
        if case .hinge = self { return false }
        return true
    }
}
