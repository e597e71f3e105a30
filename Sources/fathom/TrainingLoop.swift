import Fathom
import Foundation

/// The inner loop of `fathom train`: forward, cross-entropy, backward, optimizer and
/// schedule steps, with progress display, step metrics and periodic checkpoints.
struct TrainingLoop {
    let model: Layer
    let optimizer: any Optimizer
    let scheduler: LRScheduler
    let normalizer: InputNormalizer
    let run: RunDirectory
    let checkpointEvery: Int
    /// A live, redrawn progress line on a terminal; occasional plain lines otherwise.
    let interactive = isatty(STDOUT_FILENO) != 0

    /// Trains one epoch from batch `position` (stopping early when the step count reaches
    /// `stopAt`); returns the mean loss and accuracy of the batches it trained on.
    func epoch<D: Dataset>(_ loader: DataLoader<D>, from position: Int, progress: inout Progress, total: Int,
                           stopAt: Int? = nil, save: (Progress) throws -> Void) throws -> (loss: Double, accuracy: Double) {
        let batches = loader.batchCount
        let started = Date()
        var lossSum = 0.0, correct = 0, seen = 0
        var index = position
        for batch in loader.epoch(progress.epoch, from: position) {
            if let stopAt, progress.step >= stopAt { break }
            let logits = model(normalizer(batch.inputs))
            let loss = crossEntropy(logits, batch.labels)
            loss.backward()
            optimizer.step()
            optimizer.zeroGrad()
            scheduler.step()
            progress.step += 1
            index += 1

            let lossValue = loss.item()
            lossSum += lossValue * Double(batch.count)
            correct += Int(noGrad { logits.argmax(axis: 1).eq(batch.labels).sum() }.item())
            seen += batch.count
            let elapsed = Date().timeIntervalSince(started)
            let rate = Double(seen) / max(elapsed, 1e-9)
            if progress.step % 50 == 0 {
                try run.log(["step": progress.step, "epoch": progress.epoch + 1, "loss": lossValue,
                             "lr": optimizer.learningRates[0], "images_per_second": rate])
            }
            if checkpointEvery > 0 && progress.step % checkpointEvery == 0 { try save(progress) }
            report(progress: progress, index: index, batches: batches, total: total, loss: lossSum / Double(seen),
                   accuracy: Double(correct) / Double(seen), rate: rate,
                   eta: Double(batches - index) * elapsed / Double(index - position))
        }
        if interactive { print("") }
        return (lossSum / Double(max(seen, 1)), Double(correct) / Double(max(seen, 1)))
    }

    private func report(progress: Progress, index: Int, batches: Int, total: Int, loss: Double, accuracy: Double,
                        rate: Double, eta: Double) {
        let line = String(format: "epoch %d/%d  step %d/%d  loss %.4f  acc %.2f%%  %.0f img/s  ETA %d:%02d",
                          progress.epoch + 1, total, index, batches, loss, accuracy * 100, rate,
                          Int(eta) / 60, Int(eta) % 60)
        if interactive {
            print("\r" + line, terminator: "")
            fflush(nil)
        } else if index % max(1, batches / 5) == 0 {
            print(line)
        }
    }
}
