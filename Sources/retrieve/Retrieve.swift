// The command-line tool: the root command lists the subcommands and nothing else.
// Every subcommand is a few lines over the libraries' public API; only this target prints.
import ArgumentParser

@main
struct Retrieve: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrieve",
        abstract: "Train an image–text retrieval model on your captioned images and search images by text.",
        discussion: """
            Typical use:
              retrieve bench gemm          measure the matrix-product engine on this machine
            """,
        version: "0.1.0",
        subcommands: [TrainCommand.self, SynthCommand.self, BenchCommand.self]
    )
}
