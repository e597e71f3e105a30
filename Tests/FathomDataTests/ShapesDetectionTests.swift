import Foundation
import XCTest
@testable import FathomData
import FathomTensor

final class ShapesDetectionTests: XCTestCase {
    func testDeterministicAndSeeded() {
        let a = ShapesDetectionDataset(count: 10, seed: 4), b = ShapesDetectionDataset(count: 10, seed: 4)
        let (imageA, objectsA) = a.sample(at: 7)
        let (imageB, objectsB) = b.sample(at: 7)
        XCTAssertEqual(imageA.shape, [1, 64, 64])
        XCTAssertEqual(imageA.doubles, imageB.doubles)
        XCTAssertEqual(objectsA, objectsB)
        XCTAssertEqual(a.objects(at: 7), objectsA)
        XCTAssertNotEqual(ShapesDetectionDataset(count: 10, seed: 5).objects(at: 7), objectsA)
        let batch = a.batch(at: [7, 2])
        XCTAssertEqual(batch.images.shape, [2, 1, 64, 64])
        XCTAssertEqual(Array(batch.images.doubles.prefix(64 * 64)), imageA.doubles)
        XCTAssertEqual(batch.objects[0], objectsA)
        XCTAssertEqual(a.config.classNames, ["rectangle", "ellipse", "triangle", "cross"])
        XCTAssertEqual("\(ShapeKind.square)", "square")
    }

    func testGroundTruthFollowsLe90AndCoversAspectRatios() {
        var config = ShapesDetectionConfig()
        config.imageSize = 96
        config.objectCount = 3...6
        let data = ShapesDetectionDataset(count: 60, seed: 1, config: config)
        var ratios: [Double] = [], buckets = Set<Int>(), classes = Set<Int>(), occluded = 0
        for i in 0..<data.count {
            let objects = data.objects(at: i)
            XCTAssertLessThanOrEqual(objects.count, 6)
            XCTAssertGreaterThanOrEqual(objects.count, 1)
            for o in objects {
                XCTAssertGreaterThanOrEqual(o.width, o.height)
                XCTAssertTrue(o.angle >= -Double.pi / 2 && o.angle < Double.pi / 2, "angle \(o.angle)")
                XCTAssertLessThanOrEqual(o.aspectRatio, 8 + 1e-9)
                XCTAssertEqual(o.aspectBucket, config.aspectBucket(o.aspectRatio))
                XCTAssertEqual(o.kind, config.kinds[o.classIndex])
                XCTAssertGreaterThanOrEqual(o.visibleFraction, 1 - config.maxOccluded - 1e-9)
                // The rotated box lies inside the image.
                for k in 0..<4 {
                    let corner = DOTAObject(cx: o.cx, cy: o.cy, width: o.width, height: o.height, angle: o.angle, className: "x").corners
                    XCTAssertTrue((0...96).contains(corner[2 * k]) && (0...96).contains(corner[2 * k + 1]))
                }
                ratios.append(o.aspectRatio)
                buckets.insert(o.aspectBucket)
                classes.insert(o.classIndex)
                if o.visibleFraction < 1 { occluded += 1 }
            }
        }
        XCTAssertTrue(ratios.contains(1), "no squares")
        XCTAssertGreaterThan(ratios.max()!, 6)
        XCTAssertEqual(buckets, [0, 1, 2, 3])
        XCTAssertEqual(classes, [0, 1, 2, 3])
        XCTAssertGreaterThan(occluded, 0, "no overlapping objects")
    }

    func testDrawnPixelsMatchTheBoxes() {
        // One noiseless rectangle per image: pixels well inside its box are lit, pixels well outside are dark.
        var config = ShapesDetectionConfig()
        config.kinds = [.rectangle]
        config.objectCount = 1...1
        config.clutterCount = 0...0
        config.noise = 0
        let data = ShapesDetectionDataset(count: 20, seed: 9, config: config)
        for i in 0..<data.count {
            let (image, objects) = data.sample(at: i)
            let o = objects[0], pixels = image.doubles
            var inside = 0, outside = 0
            for y in 0..<64 {
                for x in 0..<64 {
                    let dx = Double(x) + 0.5 - o.cx, dy = Double(y) + 0.5 - o.cy
                    // Coordinates along the long side (cos θ, sin θ) and across it.
                    let u = dx * cos(o.angle) + dy * sin(o.angle), v = -dx * sin(o.angle) + dy * cos(o.angle)
                    if abs(u) < o.width / 2 - 1 && abs(v) < o.height / 2 - 1 {
                        XCTAssertGreaterThan(pixels[y * 64 + x], 0.4, "image \(i) pixel \(x),\(y) inside")
                        inside += 1
                    } else if abs(u) > o.width / 2 + 1 || abs(v) > o.height / 2 + 1 {
                        XCTAssertEqual(pixels[y * 64 + x], 0, "image \(i) pixel \(x),\(y) outside")
                        outside += 1
                    }
                }
            }
            XCTAssertGreaterThan(outside, 0)
        }
    }

    func testExportsDOTAFilesAndPNGs() throws {
        let data = ShapesDetectionDataset(count: 3, seed: 2)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fathom-shapes-dota-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let names = try data.exportDOTA(to: directory, indices: [0, 2])
        XCTAssertEqual(names, ["P0000", "P0002"])
        let (image, objects) = data.sample(at: 2)
        let png = try PNG.readTensor(directory.appendingPathComponent("images/P0002.png"))
        XCTAssertEqual(png.shape, [1, 64, 64])
        XCTAssertLessThanOrEqual(zip(png.doubles, image.doubles).map { abs($0 - $1) }.max()!, 0.5 / 255 + 1e-6)
        let annotation = try DOTA.read(directory.appendingPathComponent("labelTxt/P0002.txt"))
        XCTAssertEqual(annotation.objects.count, objects.count)
        for (read, o) in zip(annotation.objects, objects) {
            XCTAssertEqual(read.className, data.config.classNames[o.classIndex])
            let c = read.corners
            // Back from corners: centre, long side along corner 0 → 1, angle in le90.
            XCTAssertEqual((c[0] + c[2] + c[4] + c[6]) / 4, o.cx, accuracy: 0.01)
            XCTAssertEqual((c[1] + c[3] + c[5] + c[7]) / 4, o.cy, accuracy: 0.01)
            XCTAssertEqual(hypot(c[2] - c[0], c[3] - c[1]), o.width, accuracy: 0.02)
            XCTAssertEqual(hypot(c[4] - c[2], c[5] - c[3]), o.height, accuracy: 0.02)
            var angle = atan2(c[3] - c[1], c[2] - c[0])
            if angle >= .pi / 2 { angle -= .pi } else if angle < -.pi / 2 { angle += .pi }
            let difference = abs(angle - o.angle)
            XCTAssertLessThan(Swift.min(difference, .pi - difference), 0.02)
        }
    }
}
