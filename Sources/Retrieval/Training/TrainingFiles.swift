// The files a run writes beside `--out MODEL`: the best model at MODEL, the last one and the
// resumable state next to it. Each is written to a temporary name and renamed.
import Foundation

public struct TrainingFiles: Sendable {
    public let best: URL
    public let last: URL
    public let state: URL

    public init(model: URL) {
        best = model
        let base = model.deletingPathExtension()
        last = base.appendingPathExtension("last.safetensors")
        state = base.appendingPathExtension("state.safetensors")
    }
}
