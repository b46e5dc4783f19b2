// What `retrieve serve` can be told: where to listen and the bounds that keep one request from
// costing the server much (bytes, pixels, page sizes, thumbnail memory). The CLI fills it from
// its flags; tests shrink the bounds so every limit can be hit cheaply.
import Foundation

public struct ServeConfiguration: Sendable {
    /// 127.0.0.1 unless asked: a folder of pictures is private until its owner says otherwise.
    public var host = "127.0.0.1"
    /// 0 picks a free port; the server reports the one it got.
    public var port = 8080
    /// Fold near-identical results unless a request says `dedup=false`.
    public var dedup = false
    /// Largest request body (an uploaded picture, or JSON carrying one in base64).
    public var maxBodyBytes = 12 << 20
    /// Largest decoded upload: a header claiming more is refused before anything is allocated.
    public var maxUploadPixels = 24_000_000
    /// Longest request target (path and query string) in bytes.
    public var maxURILength = 4096
    /// Most results in one page, and the furthest a page may start.
    public var maxK = 200, maxOffset = 2000
    /// Memory the thumbnail cache may hold (encoded JPEG bytes).
    public var thumbnailCacheBytes = 64 << 20
    /// Thumbnail sizes served (the longer side in pixels); a request is rounded up to one of these.
    public var thumbnailSizes = [64, 128, 256, 512, 1024]

    public init() {}
}
