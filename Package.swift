// swift-tools-version:6.0
import PackageDescription

// Build flags that tune for the host CPU (e.g. `-target-cpu native`) live in the
// Makefile, not here, so Fathom stays usable as a dependency on any x86-64 or arm64 machine.
let package = Package(
    name: "Fathom",
    products: [
        .library(name: "Fathom", targets: ["Fathom"]),
        .library(name: "FathomTensor", targets: ["FathomTensor"]),
        .library(name: "FathomNN", targets: ["FathomNN"]),
        .library(name: "FathomData", targets: ["FathomData"]),
        .library(name: "FathomVision", targets: ["FathomVision"]),
        .library(name: "FathomDynamics", targets: ["FathomDynamics"]),
        .executable(name: "fathom", targets: ["fathom"]),
        .executable(name: "fathom-bench", targets: ["fathom-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "pkg-config"])]
        ),
        .target(
            name: "FathomTensor",
            dependencies: [
                "CBLAS",
                .product(name: "RealModule", package: "swift-numerics"),
            ]
        ),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "FathomNN", dependencies: ["FathomTensor"]),
        .target(name: "FathomData", dependencies: ["FathomTensor", "CZlib"]),
        .target(name: "FathomVision", dependencies: ["FathomTensor", "FathomNN", "FathomData"]),
        .target(name: "FathomDynamics", dependencies: ["FathomTensor", "FathomNN", "FathomData"]),
        .target(name: "Fathom", dependencies: ["FathomTensor", "FathomNN", "FathomData", "FathomVision", "FathomDynamics"]),
        .executableTarget(
            name: "fathom",
            dependencies: [
                "Fathom",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "fathom-bench",
            dependencies: [
                "Fathom",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/fathom-bench"
        ),
        // Gradient checks and NumPy-fixture loading shared by the test targets.
        .target(name: "FathomTestSupport", dependencies: ["FathomTensor"], path: "Tests/FathomTestSupport"),
        .testTarget(
            name: "FathomTensorTests",
            dependencies: ["FathomTensor", "FathomTestSupport"],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "FathomNNTests", dependencies: ["FathomNN", "FathomTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "FathomDataTests", dependencies: ["FathomData"]),
        .testTarget(name: "FathomVisionTests", dependencies: ["FathomVision", "FathomTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "FathomDynamicsTests", dependencies: ["FathomDynamics", "FathomVision", "FathomTestSupport"], exclude: ["Fixtures"]),
        // Runs the `fathom` executable end to end (kill and resume, flag errors).
        .testTarget(name: "CLITests", dependencies: ["FathomTensor", "FathomData", "fathom"]),
    ],
    swiftLanguageModes: [.v6]
)
