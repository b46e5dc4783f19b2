// Writes the shapes data set to a folder in the layout every reader here (and the PyTorch
// reference) takes: images/NNNNN.png|jpg, captions.tsv (path<TAB>caption, two lines per
// image) and split.tsv (path<TAB>train|val|test by the hash split, 80/10/10).
import Foundation
import Neural

extension ShapesSynthesizer {
    /// What `write` produced.
    public struct WrittenDataset: Sendable {
        public let directory: URL
        public let captions: URL
        public let split: URL
        public let images: Int
    }

    /// Renders `count` images into `directory` (created if needed); every third is a JPEG.
    /// Files are written atomically; `progress(done, total)` is called as images finish.
    public func write(count: Int, to directory: URL,
                      progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> WrittenDataset {
        precondition(count > 0, "count must be positive")
        let imageDirectory = directory.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: imageDirectory, withIntermediateDirectories: true)
        let digits = max(5, String(count - 1).count)
        func name(_ i: Int) -> String {
            let n = String(i)
            return "images/" + String(repeating: "0", count: digits - n.count) + n + (i % 3 == 2 ? ".jpg" : ".png")
        }
        var captions = [[String]](repeating: [], count: count)
        var failure: (any Error)?
        let lock = NSLock()
        let done = Counter()
        let chunk = 64
        captions.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            DispatchQueue.concurrentPerform(iterations: (count + chunk - 1) / chunk) { c in
                let range = (c * chunk)..<min(count, (c + 1) * chunk)
                for i in range {
                    let (scene, image) = self.image(at: i)
                    base[i] = scene.captions
                    do {
                        try image.write(to: directory.appendingPathComponent(name(i)), quality: 92)
                    } catch {
                        lock.lock(); failure = failure ?? error; lock.unlock()
                    }
                }
                progress?(done.add(range.count), count)
            }
        }
        if let failure { throw failure }
        var tsv = "", split = ""
        let rule = HashSplit(valFraction: 0.1, testFraction: 0.1)
        for i in 0..<count {
            for caption in captions[i] { tsv += "\(name(i))\t\(caption)\n" }
            split += "\(name(i))\t\(rule.split(of: name(i)).rawValue)\n"
        }
        let captionsURL = directory.appendingPathComponent("captions.tsv")
        let splitURL = directory.appendingPathComponent("split.tsv")
        try AtomicFile.write(Data(tsv.utf8), to: captionsURL)
        try AtomicFile.write(Data(split.utf8), to: splitURL)
        return WrittenDataset(directory: directory, captions: captionsURL, split: splitURL, images: count)
    }
}
