// swift-tools-version:6.0
// retrieve: train a two-tower image–text model on your own captioned images and search a folder by text.
import PackageDescription

/// Swift 5 language mode: the numeric code hands unsafe buffers to worker threads on purpose.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "retrieve",
    platforms: [.macOS(.v14)],  // Hummingbird 2 needs macOS 14
    products: [
        .executable(name: "retrieve", targets: ["retrieve"]),
        .library(name: "Retrieval", targets: ["Search", "Retrieval", "Datasets", "VectorIndex", "Vision", "Text", "Neural"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        // OpenMPI's mpi.h behind plain functions (its handles are macros Swift cannot import).
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev"])]),
        .target(name: "CImageCodecs",
                linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg")]),
        // AVX2+FMA search kernels chosen at run time, portable C elsewhere (VectorIndex's scans).
        .target(name: "CKernels"),
        // Imports point down this list, never up: the compiler holds the layout of docs/architecture.md.
        .target(name: "Neural", dependencies: ["CBLAS", "CKernels"], swiftSettings: strict),
        .target(name: "Cluster", dependencies: ["CMPI"], swiftSettings: strict),
        .target(name: "Vision", dependencies: ["Neural", "CImageCodecs"], swiftSettings: strict),
        .target(name: "Text", dependencies: ["Neural"], swiftSettings: strict),
        .target(name: "VectorIndex", dependencies: ["Neural", "CKernels"], swiftSettings: strict),
        .target(name: "Datasets", dependencies: ["Neural", "Vision", "Text"], swiftSettings: strict),
        .target(name: "Retrieval", dependencies: ["Neural", "Vision", "Text", "Datasets", "Cluster"], swiftSettings: strict),
        .target(name: "Search", dependencies: ["Retrieval", "Datasets", "VectorIndex", "Vision", "Text", "Neural", "CKernels"],
                swiftSettings: strict),
        .target(name: "Serve", dependencies: ["Search", "Retrieval", "VectorIndex", "Vision", "Text", "Neural",
                                             .product(name: "Hummingbird", package: "hummingbird")],
                swiftSettings: strict),
        .target(name: "Benchmarks", dependencies: ["Retrieval", "VectorIndex", "Text", "Neural"], swiftSettings: strict),
        .executableTarget(name: "retrieve",
                          dependencies: ["Serve", "Search", "Benchmarks", "Retrieval", "Datasets", "VectorIndex", "Neural", "Vision", "Text", "Cluster",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          swiftSettings: strict),
        .testTarget(name: "NeuralTests", dependencies: ["Neural", "CKernels"]),
        .testTarget(name: "VisionTests", dependencies: ["Vision", "Neural"]),
        .testTarget(name: "TextTests", dependencies: ["Text", "Neural"]),
        .testTarget(name: "VectorIndexTests", dependencies: ["VectorIndex", "Neural"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Vision", "Text", "Neural"]),
        .testTarget(name: "RetrievalTests", dependencies: ["Retrieval", "Datasets", "Benchmarks", "Vision", "Text", "Neural"]),
        .testTarget(name: "BenchmarksTests", dependencies: ["Benchmarks", "Neural"]),
        .testTarget(name: "SearchTests", dependencies: ["Search", "Retrieval", "Datasets", "VectorIndex", "Vision", "Neural"]),
        // The HTTP API over a live loopback server with Hummingbird's testing library, the binary,
        // and the page in headless Chromium.
        .testTarget(name: "ServeTests", dependencies: ["Serve", "retrieve", "Search", "Retrieval", "Datasets", "VectorIndex", "Vision", "Neural",
                                                       .product(name: "Hummingbird", package: "hummingbird"),
                                                       .product(name: "HummingbirdTesting", package: "hummingbird")]),
        // The command-line tool run as a user runs it: exit codes, messages, files.
        // Distributed runs start the same binary under a real `mpirun -np 2`; the files it writes
        // are read back with the libraries' readers.
        .testTarget(name: "CLITests", dependencies: ["retrieve", "Search", "VectorIndex", "Vision", "Neural"]),
    ],
    swiftLanguageModes: [.v5]
)
