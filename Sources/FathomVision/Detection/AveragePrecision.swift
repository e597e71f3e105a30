// Detection average precision as the PASCAL VOC and DOTA devkits compute it
// (`voc_eval` / `voc_ap` in DOTA_devkit's dota_evaluation_task1.py), generic over the box
// type: horizontal or rotated boxes differ only in the IoU function the caller passes.

/// A ground-truth object of one image.
public struct GroundTruthObject<Box> {
    /// Index of the image the object belongs to.
    public var image: Int
    public var classIndex: Int
    public var box: Box
    /// Difficult objects are ignored: a detection matched to one is neither a true nor a
    /// false positive, and they do not count towards recall.
    public var difficult: Bool
    /// Optional group for per-bucket AP (e.g. an aspect-ratio bucket).
    public var bucket: Int?

    public init(image: Int, classIndex: Int, box: Box, difficult: Bool = false, bucket: Int? = nil) {
        self.image = image
        self.classIndex = classIndex
        self.box = box
        self.difficult = difficult
        self.bucket = bucket
    }
}

/// A scored detection in one image.
public struct Detection<Box> {
    public var image: Int
    public var classIndex: Int
    public var box: Box
    public var score: Double
    /// Optional group for per-bucket AP: a detection that matches no object counts as a
    /// false positive of its own bucket only (nil: of every bucket).
    public var bucket: Int?

    public init(image: Int, classIndex: Int, box: Box, score: Double, bucket: Int? = nil) {
        self.image = image
        self.classIndex = classIndex
        self.box = box
        self.score = score
        self.bucket = bucket
    }
}

/// How the precision–recall curve is summarised.
public enum APInterpolation: Sendable {
    /// VOC2007: mean of the interpolated precision at recall 0, 0.1, …, 1 (11 points).
    case elevenPoint
    /// VOC2010+ / DOTA default: area under the monotone (interpolated) precision envelope.
    case allPoints
}

/// The AP of one class at one IoU threshold, with its precision–recall curve.
public struct ClassAveragePrecision: Sendable {
    public let classIndex: Int
    /// Nil when the class has no non-difficult ground truth (AP is undefined; such classes
    /// are left out of the mean).
    public let averagePrecision: Double?
    /// Number of non-difficult ground-truth objects.
    public let groundTruthCount: Int
    /// Cumulative recall and precision after each counted detection, by descending score.
    public let recall: [Double]
    public let precision: [Double]
}

/// Summary of `evaluateDetections`: per-class APs at each IoU threshold and their means.
public struct DetectionEvaluation: Sendable {
    public let iouThresholds: [Double]
    /// `perClass[t][c]`: class `c` at `iouThresholds[t]`.
    public let perClass: [[ClassAveragePrecision]]

    /// Mean over classes with ground truth of the AP at threshold index `t` (nil if no
    /// class has ground truth).
    public func meanAP(thresholdIndex t: Int) -> Double? {
        let aps = perClass[t].compactMap(\.averagePrecision)
        return aps.isEmpty ? nil : aps.reduce(0, +) / Double(aps.count)
    }

    /// Mean AP at the threshold closest to `iou` (e.g. 0.5 or 0.75).
    public func meanAP(at iou: Double) -> Double? {
        guard let t = iouThresholds.indices.min(by: { abs(iouThresholds[$0] - iou) < abs(iouThresholds[$1] - iou) }),
              abs(iouThresholds[t] - iou) < 1e-9 else { return nil }
        return meanAP(thresholdIndex: t)
    }

    /// mAP@0.5.
    public var mAP50: Double? { meanAP(at: 0.5) }
    /// mAP@0.75.
    public var mAP75: Double? { meanAP(at: 0.75) }
    /// The mean of the mAPs over all thresholds (COCO-style mAP50:95 when the thresholds
    /// are `DetectionEvaluation.cocoThresholds`).
    public var mAPAveraged: Double? {
        let maps = iouThresholds.indices.compactMap { meanAP(thresholdIndex: $0) }
        return maps.isEmpty ? nil : maps.reduce(0, +) / Double(maps.count)
    }

    /// 0.5, 0.55, …, 0.95.
    public static let cocoThresholds: [Double] = (0..<10).map { 0.5 + 0.05 * Double($0) }
}

/// Area under a precision–recall curve (`voc_ap`): `recall` must be non-decreasing.
public func averagePrecision(recall: [Double], precision: [Double], interpolation: APInterpolation) -> Double {
    precondition(recall.count == precision.count, "Fathom.averagePrecision: \(recall.count) recalls but \(precision.count) precisions")
    switch interpolation {
    case .elevenPoint:
        var ap = 0.0
        for k in 0...10 {
            // Same thresholds as np.arange(0, 1.1, 0.1): k * 0.1, rounding included.
            let t = Double(k) * 0.1
            var best: Double?
            for (r, p) in zip(recall, precision) where r >= t { best = Swift.max(best ?? p, p) }
            ap += (best ?? 0) / 11
        }
        return ap
    case .allPoints:
        let mrec = [0] + recall + [1]
        var mpre = [0] + precision + [0]
        for i in stride(from: mpre.count - 1, to: 0, by: -1) { mpre[i - 1] = Swift.max(mpre[i - 1], mpre[i]) }
        var ap = 0.0
        for i in 0..<(mrec.count - 1) where mrec[i + 1] != mrec[i] { ap += (mrec[i + 1] - mrec[i]) * mpre[i + 1] }
        return ap
    }
}

/// Per-class AP at each IoU threshold, matching as the VOC and DOTA devkits do.
///
/// For each class, detections are taken by descending score (ties keep input order).
/// Each detection is compared with every ground-truth object of its image and class; if
/// the best IoU is above the threshold (strictly, as in the devkits) and that object is
/// difficult, the detection is ignored; if the object is not yet matched it becomes a true
/// positive and the object is matched; otherwise (already matched, or IoU too low) it is a
/// false positive. Note that a detection whose best object is already taken is a false
/// positive even if a second object overlaps it enough (the VOC rule, not COCO's).
///
/// - Parameters:
///   - iou: the overlap of a detection box and a ground-truth box. Pass a horizontal or
///     rotated IoU; to reuse precomputed IoUs, make `Box` an index into your matrix.
///     Each (detection, object) pair of the same image and class is evaluated once, and
///     the values are shared by all thresholds.
///   - bucket: when set, only ground truth in this bucket counts; objects of other buckets
///     are ignored like difficult ones, and unmatched detections of other buckets are
///     ignored (per-bucket AP, like COCO's per-area AP).
public func evaluateDetections<Box>(
    _ detections: [Detection<Box>], groundTruth: [GroundTruthObject<Box>], classCount: Int,
    iouThresholds: [Double] = DetectionEvaluation.cocoThresholds, interpolation: APInterpolation = .allPoints,
    bucket: Int? = nil, iou: (Box, Box) -> Double
) -> DetectionEvaluation {
    precondition(classCount > 0 && !iouThresholds.isEmpty, "Fathom.evaluateDetections: need classCount > 0 and at least one IoU threshold")
    for d in detections {
        precondition((0..<classCount).contains(d.classIndex), "Fathom.evaluateDetections: detection class \(d.classIndex) is outside 0..<\(classCount)")
        precondition(d.score.isFinite, "Fathom.evaluateDetections: detection score \(d.score) is not finite")
    }
    for g in groundTruth {
        precondition((0..<classCount).contains(g.classIndex), "Fathom.evaluateDetections: ground-truth class \(g.classIndex) is outside 0..<\(classCount)")
    }
    var perClass = [[ClassAveragePrecision]](repeating: [], count: iouThresholds.count)
    for c in 0..<classCount {
        let results = evaluateClass(c, detections: detections.filter { $0.classIndex == c },
                                    groundTruth: groundTruth.filter { $0.classIndex == c },
                                    thresholds: iouThresholds, interpolation: interpolation, bucket: bucket, iou: iou)
        for t in iouThresholds.indices { perClass[t].append(results[t]) }
    }
    return DetectionEvaluation(iouThresholds: iouThresholds, perClass: perClass)
}

private func evaluateClass<Box>(
    _ classIndex: Int, detections: [Detection<Box>], groundTruth: [GroundTruthObject<Box>], thresholds: [Double],
    interpolation: APInterpolation, bucket: Int?, iou: (Box, Box) -> Double
) -> [ClassAveragePrecision] {
    // Objects outside the bucket are treated like difficult ones.
    let ignored = groundTruth.map { $0.difficult || (bucket != nil && $0.bucket != bucket) }
    let positives = ignored.filter { !$0 }.count
    var objectsByImage: [Int: [Int]] = [:]
    for (i, g) in groundTruth.enumerated() { objectsByImage[g.image, default: []].append(i) }
    // Stable order by descending score.
    let order = detections.indices.sorted { detections[$0].score != detections[$1].score ? detections[$0].score > detections[$1].score : $0 < $1 }
    // Best object and its IoU per detection: independent of the threshold.
    var bestObject = [Int](repeating: -1, count: detections.count)
    var bestIoU = [Double](repeating: -.infinity, count: detections.count)
    for d in detections.indices {
        for g in objectsByImage[detections[d].image] ?? [] {
            let overlap = iou(detections[d].box, groundTruth[g].box)
            // First maximum wins, as np.argmax.
            if overlap > bestIoU[d] {
                bestIoU[d] = overlap
                bestObject[d] = g
            }
        }
    }
    return thresholds.map { threshold in
        var matched = [Bool](repeating: false, count: groundTruth.count)
        var tp = 0.0, fp = 0.0
        var recall: [Double] = [], precision: [Double] = []
        for d in order {
            let g = bestObject[d]
            if g >= 0 && bestIoU[d] > threshold {
                if ignored[g] {
                    // Matched to an ignored object: neither TP nor FP (the devkit's rule).
                    continue
                } else if !matched[g] {
                    matched[g] = true
                    tp += 1
                } else {
                    fp += 1
                }
            } else {
                if let b = bucket, let own = detections[d].bucket, own != b { continue }
                fp += 1
            }
            recall.append(positives > 0 ? tp / Double(positives) : 0)
            precision.append(tp / Swift.max(tp + fp, Double.leastNormalMagnitude))
        }
        let ap = positives > 0 ? averagePrecision(recall: recall, precision: precision, interpolation: interpolation) : nil
        return ClassAveragePrecision(classIndex: classIndex, averagePrecision: ap, groundTruthCount: positives,
                                     recall: recall, precision: precision)
    }
}

/// `evaluateDetections` once per bucket (e.g. per aspect-ratio bucket), keyed by bucket.
/// Buckets are those of the ground truth unless given.
public func evaluateDetectionsByBucket<Box>(
    _ detections: [Detection<Box>], groundTruth: [GroundTruthObject<Box>], classCount: Int, buckets: [Int]? = nil,
    iouThresholds: [Double] = DetectionEvaluation.cocoThresholds, interpolation: APInterpolation = .allPoints,
    iou: (Box, Box) -> Double
) -> [Int: DetectionEvaluation] {
    let keys = buckets ?? Array(Set(groundTruth.compactMap(\.bucket))).sorted()
    var result: [Int: DetectionEvaluation] = [:]
    for b in keys {
        result[b] = evaluateDetections(detections, groundTruth: groundTruth, classCount: classCount, iouThresholds: iouThresholds,
                                       interpolation: interpolation, bucket: b, iou: iou)
    }
    return result
}
