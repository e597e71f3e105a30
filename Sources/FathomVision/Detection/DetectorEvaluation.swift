// Evaluating a detector on a ShapesDetectionDataset: rotated-IoU (or xyxy-IoU) AP at 0.5, 0.75
// and averaged over 0.5:0.95, per class and per aspect-ratio bucket.

import Foundation
import FathomData
import FathomTensor

/// A detector's figures on a dataset.
public struct DetectorEvaluationReport: Sendable {
    public let map50: Double
    public let map75: Double
    /// AP averaged over IoU 0.5, 0.55, …, 0.95 (COCO).
    public let map50_95: Double
    /// AP50 per class (nil: the class has no object in the evaluated images).
    public let perClassAP50: [Double?]
    /// AP75 per class.
    public let perClassAP75: [Double?]
    /// Per aspect-ratio bucket (`ShapesDetectionConfig.aspectBucketEdges`): mAP50 and mAP75
    /// over the objects of that bucket, and how many objects it holds.
    public let byAspect: [(bucket: Int, map50: Double, map75: Double, objects: Int)]
    /// Detections kept after NMS, over all images.
    public let detectionCount: Int
    public let imageCount: Int

    /// A JSON-ready dictionary of the per-bucket figures, keyed by bucket label ("[1, 1.5)" …).
    public func aspectDictionary(edges: [Double]) -> [String: [String: Double]] {
        var result: [String: [String: Double]] = [:]
        for entry in byAspect {
            result[aspectBucketLabel(entry.bucket, edges: edges)] = ["map50": entry.map50, "map75": entry.map75, "objects": Double(entry.objects)]
        }
        return result
    }
}

/// "[1, 1.5)", "[1.5, 3)", …, "≥5" for the buckets of `edges`.
public func aspectBucketLabel(_ bucket: Int, edges: [Double]) -> String {
    func text(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(x) }
    let lower = bucket == 0 ? 1 : edges[bucket - 1]
    return bucket < edges.count ? "[\(text(lower)), \(text(edges[bucket])))" : ">=\(text(lower))"
}

/// IoU of two flat boxes, rotated (cx, cy, w, h, θ) or xyxy.
public func flatBoxIoU(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count && (a.count == 4 || a.count == 5), "Fathom.flatBoxIoU: boxes of 4 or 5 values, got \(a.count) and \(b.count)")
    return a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            a.count == 5 ? rotatedIoUValue(pa.baseAddress!, pb.baseAddress!) : boxOverlap(pa.baseAddress!, pb.baseAddress!, .iou)
        }
    }
}

/// Evaluates detections against dataset-style ground truth. Rotated detections are `[cx, cy, w,
/// h, θ]`; horizontal ones xyxy (ground truth then uses the enclosing xyxy boxes). A detection's
/// bucket (for per-bucket AP, where unmatched detections of other buckets are ignored) is that
/// of its own aspect ratio.
public func evaluateDetectorOutputs(_ detections: [Detection<[Double]>], objects: [[ShapesDetectionObject]],
                                    config: ShapesDetectionConfig, rotated: Bool) -> DetectorEvaluationReport {
    var groundTruth: [GroundTruthObject<[Double]>] = []
    for (image, list) in objects.enumerated() {
        for o in list {
            let box = rotated ? o.box : rotatedBoxToXYXY(Tensor(o.box, shape: [1, 5], dtype: .float64)).doubles
            groundTruth.append(GroundTruthObject(image: image, classIndex: o.classIndex, box: box, bucket: o.aspectBucket))
        }
    }
    let tagged = detections.map { d -> Detection<[Double]> in
        var d = d
        let (w, h) = rotated ? (d.box[2], d.box[3]) : (d.box[2] - d.box[0], d.box[3] - d.box[1])
        d.bucket = config.aspectBucket(Swift.max(w, h) / Swift.max(Swift.min(w, h), 1e-9))
        return d
    }
    let classCount = config.classCount
    let overall = evaluateDetections(tagged, groundTruth: groundTruth, classCount: classCount, iou: flatBoxIoU)
    let t50 = overall.iouThresholds.firstIndex { abs($0 - 0.5) < 1e-9 }!, t75 = overall.iouThresholds.firstIndex { abs($0 - 0.75) < 1e-9 }!
    let buckets = evaluateDetectionsByBucket(tagged, groundTruth: groundTruth, classCount: classCount,
                                             buckets: Array(0...config.aspectBucketEdges.count),
                                             iouThresholds: [0.5, 0.75], iou: flatBoxIoU)
    let byAspect = buckets.keys.sorted().compactMap { b -> (Int, Double, Double, Int)? in
        let count = groundTruth.filter { $0.bucket == b }.count
        guard count > 0, let e = buckets[b] else { return nil }
        return (b, e.meanAP(thresholdIndex: 0) ?? 0, e.meanAP(thresholdIndex: 1) ?? 0, count)
    }
    return DetectorEvaluationReport(
        map50: overall.meanAP(thresholdIndex: t50) ?? 0, map75: overall.meanAP(thresholdIndex: t75) ?? 0,
        map50_95: overall.mAPAveraged ?? 0,
        perClassAP50: overall.perClass[t50].map(\.averagePrecision), perClassAP75: overall.perClass[t75].map(\.averagePrecision),
        byAspect: byAspect, detectionCount: detections.count, imageCount: objects.count)
}

/// Runs `detector.predict` over images `indices` (default: all) of `dataset` in batches and
/// evaluates the detections (`evaluateDetectorOutputs`).
public func evaluate(_ detector: AnchorFreeDetector, on dataset: ShapesDetectionDataset, indices: [Int]? = nil,
                     batchSize: Int = 32, scoreThreshold: Double = 0.05, iouThreshold: Double = 0.5) -> DetectorEvaluationReport {
    let all = indices ?? Array(0..<dataset.count)
    var detections: [Detection<[Double]>] = [], objects: [[ShapesDetectionObject]] = []
    var start = 0
    while start < all.count {
        let chunk = Array(all[start..<Swift.min(all.count, start + batchSize)])
        let (images, found) = dataset.batch(at: chunk)
        detections += detector.predict(images, scoreThreshold: scoreThreshold, iouThreshold: iouThreshold, imageOffset: start).flatMap { $0 }
        objects += found
        start += chunk.count
    }
    return evaluateDetectorOutputs(detections, objects: objects, config: dataset.config, rotated: detector.config.rotated)
}
