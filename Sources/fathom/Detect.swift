import ArgumentParser
import Fathom
import Foundation

/// `fathom detect`: oriented object detection on procedural shapes (`ShapesDetectionDataset`)
/// with the anchor-free detector: `train`, `eval` and `predict`.
struct Detect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect", abstract: "Oriented object detection on procedural shapes: train, eval, predict.",
        subcommands: [DetectTrain.self, DetectEval.self, DetectPredict.self])
}

/// Options shared by the sub-commands that build a dataset.
struct DetectDataOptions: ParsableArguments {
    @Option(help: "Image side in pixels (a multiple of 16).") var imageSize = 64
    @Option(help: "Seed of the evaluation images (training images use --seed).") var evalSeed: UInt64 = 1_000_003
    @Option(help: "Evaluation images.") var evalImages = 256

    func validate() throws {
        if imageSize < 16 || imageSize % 16 != 0 { throw ValidationError("--image-size must be a multiple of 16 and at least 16, got \(imageSize)") }
        if evalImages < 1 { throw ValidationError("--eval-images must be positive, got \(evalImages)") }
    }

    var config: ShapesDetectionConfig {
        var c = ShapesDetectionConfig()
        c.imageSize = imageSize
        return c
    }

    var evalDataset: ShapesDetectionDataset { ShapesDetectionDataset(count: evalImages, seed: evalSeed, config: config) }
}

/// The detector architecture as stored beside a checkpoint.
struct DetectorDescription: Codable {
    var preset: String
    var rotated: Bool
    var classCount: Int
    var imageSize: Int

    func make(seed: UInt64?) throws -> AnchorFreeDetector {
        switch preset {
        case "heavy-neck": return AnchorFreeDetector(.heavyNeck(classCount: classCount, rotated: rotated), seed: seed)
        case "heavy-backbone": return AnchorFreeDetector(.heavyBackbone(classCount: classCount, rotated: rotated), seed: seed)
        default: throw ValidationError("unknown preset \(preset): use heavy-neck (gfpn) or heavy-backbone (fpn)")
        }
    }

    static func load(checkpoint: String) throws -> (AnchorFreeDetector, DetectorDescription) {
        let (tensors, metadata) = try Safetensors.read(from: URL(fileURLWithPath: checkpoint))
        guard let json = metadata["detector"], let description = try? JSONDecoder().decode(DetectorDescription.self, from: Data(json.utf8)) else {
            throw ValidationError("\(checkpoint) has no `detector` metadata; it was not written by `fathom detect train`")
        }
        let detector = try description.make(seed: nil)
        try detector.load(stateDict: StateDict(tensors.map { ($0.name, $0.tensor) }))
        return (detector, description)
    }
}

/// The figures of an evaluation as JSON-ready values.
func detectionSummary(_ report: DetectorEvaluationReport, config: ShapesDetectionConfig) -> [String: Any] {
    var perClass: [String: Any] = [:]
    for (c, name) in config.classNames.enumerated() {
        perClass[name] = ["ap50": report.perClassAP50[c] ?? -1, "ap75": report.perClassAP75[c] ?? -1]
    }
    return ["map50": report.map50, "map75": report.map75, "map50_95": report.map50_95, "per_class_ap": perClass,
            "ap_by_aspect": report.aspectDictionary(edges: config.aspectBucketEdges), "eval_images": report.imageCount,
            "detections": report.detectionCount]
}

func printReport(_ report: DetectorEvaluationReport, config: ShapesDetectionConfig) {
    print(String(format: "mAP50 %.4f  mAP75 %.4f  mAP50:95 %.4f on %d images", report.map50, report.map75, report.map50_95, report.imageCount))
    for entry in report.byAspect {
        print(String(format: "  aspect %@: AP50 %.4f  AP75 %.4f  (%d objects)",
                     aspectBucketLabel(entry.bucket, edges: config.aspectBucketEdges), entry.map50, entry.map75, entry.objects))
    }
}

struct DetectTrain: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Train the detector; write config, metrics, summary and checkpoint.")

    @Option(help: "Box loss: smoothl1, kld, gwd, kfiou (rotated) or giou (horizontal, with --horizontal).") var loss = "kld"
    @Option(help: "Classification loss: qfl, vfl or focal.") var classification = "qfl"
    @Option(help: "Label assigner: atss, fcos, simota or alignedota.") var assigner = "atss"
    @Option(help: "Preset: heavy-neck (light backbone + RepGFPN) or heavy-backbone (PAFPN).") var preset: String?
    @Option(help: "Neck shorthand: gfpn (= heavy-neck) or fpn (= heavy-backbone).") var neck: String?
    @Flag(help: "Horizontal boxes instead of rotated ones.") var horizontal = false
    @Option(help: "Training images.") var images = 2000
    @OptionGroup var data: DetectDataOptions
    @Option(help: "Epochs over the training images (ignored when --steps is given).") var epochs = 4
    @Option(help: "Optimizer steps (overrides --epochs).") var steps: Int?
    @Option(help: "Batch size.") var batchSize = 16
    @Option(help: "Peak learning rate.") var lr = 6e-3
    @Option(help: "Optimizer: adamw or sgd.") var optimizer = "adamw"
    @Option(help: "Warm-up steps.") var warmup = 50
    @Option(help: "Box-loss weight (default: per loss, see docs/detection.md).") var boxWeight: Double?
    @Option(help: "Seed of the weights, the training images and their order.") var seed: UInt64 = 0
    @Option(help: "Run directory (default: runs/detect-LOSS-PRESET-seedSEED).") var out: String?

    var presetName: String {
        if let preset { return preset }
        return neck == "fpn" ? "heavy-backbone" : "heavy-neck"
    }

    func validate() throws {
        guard let boxLoss = DetectorBoxLoss(rawValue: loss) else { throw ValidationError("--loss must be one of smoothl1, kld, gwd, kfiou, giou; got \(loss)") }
        if boxLoss.isRotated == horizontal { throw ValidationError("--loss \(loss) is for \(boxLoss.isRotated ? "rotated" : "horizontal") boxes; \(horizontal ? "drop --horizontal" : "add --horizontal")") }
        if DetectorClassificationLoss(rawValue: classification) == nil { throw ValidationError("--classification must be qfl, vfl or focal; got \(classification)") }
        if LabelAssigner.named(assigner) == nil { throw ValidationError("--assigner must be one of \(LabelAssigner.names.joined(separator: ", ")); got \(assigner)") }
        if let neck, neck != "gfpn" && neck != "fpn" { throw ValidationError("--neck must be gfpn or fpn; got \(neck)") }
        if preset != nil && neck != nil { throw ValidationError("give --preset or --neck, not both") }
        if !["heavy-neck", "heavy-backbone"].contains(presetName) { throw ValidationError("--preset must be heavy-neck or heavy-backbone; got \(presetName)") }
        if images < 1 || batchSize < 1 || epochs < 1 || (steps ?? 1) < 1 { throw ValidationError("--images, --batch-size, --epochs and --steps must be positive") }
        if optimizer != "adamw" && optimizer != "sgd" { throw ValidationError("--optimizer must be adamw or sgd; got \(optimizer)") }
    }

    func run() throws {
        let boxLoss = DetectorBoxLoss(rawValue: loss)!
        let dataset = ShapesDetectionDataset(count: images, seed: seed, config: data.config)
        let description = DetectorDescription(preset: presetName, rotated: !horizontal, classCount: dataset.classCount, imageSize: data.imageSize)
        let detector = try description.make(seed: seed)
        let stepsPerEpoch = (images + batchSize - 1) / batchSize
        let totalSteps = steps ?? epochs * Swift.max(1, images / Swift.min(batchSize, images))
        var lossOptions = DetectorLossOptions(boxLoss: boxLoss, classification: DetectorClassificationLoss(rawValue: classification)!,
                                              boxWeight: boxWeight)
        if assigner != "atss" { lossOptions.assigner = LabelAssigner.named(assigner)! }
        let options = DetectorTrainingOptions(loss: lossOptions, steps: totalSteps, batchSize: batchSize, lr: lr,
                                              optimizer: optimizer == "sgd" ? .sgd : .adamw, warmupSteps: warmup,
                                              seed: seed, logEvery: Swift.max(1, totalSteps / 100))
        let directory = URL(fileURLWithPath: out ?? "runs/detect-\(loss)-\(presetName)-seed\(seed)")
        let macs = detector.multiplyAdds(inputSize: data.imageSize)
        let run = try RunDirectory(directory, config: [
            "command": "detect train", "loss": loss, "classification": classification, "assigner": assigner, "preset": presetName,
            "rotated": !horizontal, "images": images, "image_size": data.imageSize, "steps": totalSteps, "steps_per_epoch": stepsPerEpoch,
            "batch_size": batchSize, "lr": lr, "optimizer": optimizer, "warmup": warmup,
            "box_weight": boxWeight ?? boxLoss.defaultWeight, "seed": seed, "eval_seed": data.evalSeed, "eval_images": data.evalImages,
            "parameters": detector.parameterCount, "multiply_adds": macs,
        ])
        print("Training \(presetName) detector (\(detector.parameterCount) parameters, \(macs) MACs at \(data.imageSize)²) with \(loss) "
              + "on \(images) images for \(totalSteps) steps of \(batchSize).")
        let start = Date()
        let trainer = DetectorTrainer(detector: detector, dataset: dataset, options: options)
        var logError: Error?
        let curve = trainer.train { record in
            do {
                try run.log(["step": record.step, "loss": record.loss, "classification": record.classification, "box": record.box,
                             "positives_per_image": record.positivesPerImage, "mean_iou": record.meanIoU, "lr": record.lr])
            } catch { logError = error }
        }
        if let logError { throw logError }
        let seconds = Date().timeIntervalSince(start)
        try Safetensors.write(detector.stateDict().entries.map { (name: $0.key, tensor: $0.tensor) },
                              metadata: ["detector": String(decoding: try JSONEncoder().encode(description), as: UTF8.self)],
                              to: run.file("checkpoint.safetensors"))
        let evalStart = Date()
        let report = evaluate(detector, on: data.evalDataset)
        var summary = detectionSummary(report, config: data.config)
        summary["loss"] = loss
        summary["preset"] = presetName
        summary["seed"] = seed
        summary["final_loss"] = curve.last?.loss ?? .nan
        summary["train_seconds"] = seconds
        summary["eval_seconds"] = Date().timeIntervalSince(evalStart)
        summary["multiply_adds"] = macs
        summary["parameters"] = detector.parameterCount
        try run.writeSummary(summary)
        printReport(report, config: data.config)
        print(String(format: "trained in %.0f s; run directory %@", seconds, directory.path))
    }
}

struct DetectEval: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval", abstract: "Evaluate a checkpoint: mAP50, mAP75, mAP50:95, per class and per aspect bucket.")

    @Option(help: "checkpoint.safetensors written by `fathom detect train`.") var checkpoint: String
    @OptionGroup var data: DetectDataOptions
    @Option(help: "Write the summary JSON here too.") var output: String?

    func run() throws {
        let (detector, description) = try DetectorDescription.load(checkpoint: checkpoint)
        var config = data.config
        config.imageSize = description.imageSize
        let report = evaluate(detector, on: ShapesDetectionDataset(count: data.evalImages, seed: data.evalSeed, config: config))
        printReport(report, config: config)
        if let output { try RunDirectory.writeJSON(detectionSummary(report, config: config), to: URL(fileURLWithPath: output)) }
    }
}

struct DetectPredict: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "predict", abstract: "Draw predicted rotated boxes on evaluation images; write DOTA-format predictions.")

    @Option(help: "checkpoint.safetensors written by `fathom detect train`.") var checkpoint: String
    @Option(help: "Images to predict.") var count = 8
    @OptionGroup var data: DetectDataOptions
    @Option(help: "Score threshold of the drawn / written detections.") var scoreThreshold = 0.3
    @Option(help: "Pixel scale of the annotated PNGs.") var scale = 4
    @Option(help: "Output folder (default: beside the checkpoint, predictions/).") var out: String?

    func run() throws {
        let (detector, description) = try DetectorDescription.load(checkpoint: checkpoint)
        var config = data.config
        config.imageSize = description.imageSize
        let dataset = ShapesDetectionDataset(count: Swift.max(1, count), seed: data.evalSeed, config: config)
        let folder = URL(fileURLWithPath: out ?? URL(fileURLWithPath: checkpoint).deletingLastPathComponent().appendingPathComponent("predictions").path)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var task1: [[String]] = Array(repeating: [], count: config.classCount)
        for index in 0..<dataset.count {
            let (image, objects) = dataset.sample(at: index)
            let detections = detector.predict(image.unsqueezed(axis: 0), scoreThreshold: scoreThreshold)[0]
            let name = String(format: "P%04d", index)
            var annotated = AnnotatedImage(gray: image.scalars(as: Float.self), size: config.imageSize, scale: scale)
            for o in objects { annotated.drawBox(o.box, rotated: true, color: (90, 90, 90)) }  // ground truth, grey
            for d in detections {
                annotated.drawBox(d.box, rotated: description.rotated, color: AnnotatedImage.palette[d.classIndex % AnnotatedImage.palette.count])
                let corners = detectionCorners(d.box, rotated: description.rotated)
                task1[d.classIndex].append("\(name) \(String(format: "%.4f", d.score)) " + corners.map { String(format: "%.1f", $0) }.joined(separator: " "))
            }
            try PNG.write(annotated.image, to: folder.appendingPathComponent(name + ".png"))
        }
        // DOTA task-1 submission format: one file per class, `image score x1 y1 … x4 y4`.
        for (c, lines) in task1.enumerated() {
            try (lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n"))
                .write(to: folder.appendingPathComponent("Task1_\(config.classNames[c]).txt"), atomically: true, encoding: .utf8)
        }
        print("Wrote \(dataset.count) annotated images (grey: ground truth, coloured: predictions by class) and DOTA Task1 files to \(folder.path)")
    }
}

/// The four corners (x1, y1, …, x4, y4) of a rotated (cx, cy, w, h, θ) or xyxy box.
func detectionCorners(_ box: [Double], rotated: Bool) -> [Double] {
    if rotated {
        return DOTAObject(cx: box[0], cy: box[1], width: box[2], height: box[3], angle: box[4], className: "x").corners
    }
    return [box[0], box[1], box[2], box[1], box[2], box[3], box[0], box[3]]
}

/// An RGB upscaled copy of a grayscale image to draw boxes on.
struct AnnotatedImage {
    static let palette: [(UInt8, UInt8, UInt8)] = [(255, 60, 60), (60, 220, 60), (70, 130, 255), (255, 200, 40), (220, 80, 255)]
    let side: Int, scale: Int
    var pixels: [UInt8]

    init(gray: [Float], size: Int, scale: Int) {
        self.scale = Swift.max(1, scale)
        side = size * self.scale
        pixels = [UInt8](repeating: 0, count: side * side * 3)
        for y in 0..<side {
            for x in 0..<side {
                let v = UInt8((Swift.min(1, Swift.max(0, gray[(y / self.scale) * size + x / self.scale])) * 255).rounded())
                for k in 0..<3 { pixels[(y * side + x) * 3 + k] = v }
            }
        }
    }

    var image: PNGImage { PNGImage(width: side, height: side, channels: 3, pixels: pixels) }

    mutating func drawBox(_ box: [Double], rotated: Bool, color: (UInt8, UInt8, UInt8)) {
        let c = detectionCorners(box, rotated: rotated).map { $0 * Double(scale) }
        for k in 0..<4 { line(c[2 * k], c[2 * k + 1], c[(2 * k + 2) % 8], c[(2 * k + 3) % 8], color) }
    }

    private mutating func line(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, _ color: (UInt8, UInt8, UInt8)) {
        let steps = Int(Swift.max(abs(x1 - x0), abs(y1 - y0)).rounded(.up)) + 1
        for i in 0...steps {
            let t = Double(i) / Double(steps)
            let x = Int((x0 + t * (x1 - x0)).rounded(.down)), y = Int((y0 + t * (y1 - y0)).rounded(.down))
            guard x >= 0, y >= 0, x < side, y < side else { continue }
            let at = (y * side + x) * 3
            pixels[at] = color.0; pixels[at + 1] = color.1; pixels[at + 2] = color.2
        }
    }
}
