// swift-tools-version:6.0
// The Swift file readers under libFuzzer: the index file (IndexFile.read, then what a query does
// with what it read) and the model file (Safetensors.decode, ModelFile.read). Built by
// fuzz/run.sh with -sanitize=fuzzer,address over the whole package; see fuzz/README.md.
import PackageDescription

let package = Package(
    name: "retrieve-fuzz",
    dependencies: [.package(name: "retrieve", path: "../..")],
    targets: [
        .target(name: "FuzzDriver", path: "Sources/FuzzDriver"),
        .executableTarget(name: "fuzz_index", dependencies: ["FuzzDriver", .product(name: "Retrieval", package: "retrieve")],
                          path: "Sources/FuzzIndex"),
        .executableTarget(name: "fuzz_model", dependencies: ["FuzzDriver", .product(name: "Retrieval", package: "retrieve")],
                          path: "Sources/FuzzModel"),
    ],
    swiftLanguageModes: [.v5]
)
