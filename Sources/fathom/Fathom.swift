import ArgumentParser
import Fathom

@main
struct FathomCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fathom",
        abstract: "Fathom: deep learning and training-dynamics research in Swift.",
        subcommands: [
            Train.self, Eval.self, Info.self, Demo.self,
            LMC.self, Hessian.self, Align.self, Landscape.self, Rank.self,
            Abrupt.self, Grok.self,
            VAECommand.self, SSL.self, ReID.self,
            Detect.self,
        ],
        defaultSubcommand: Demo.self
    )
}
