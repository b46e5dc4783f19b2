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
              retrieve demo                                   the whole story on generated data
              retrieve train --data captions.tsv --out model.safetensors
              retrieve eval --model model.safetensors --data captions.tsv --on test
              retrieve index photos --model model.safetensors
              retrieve query "a red circle" -k 5             (from inside photos/)
              retrieve synth --out shapes --count 3000        generate the bundled data set
              retrieve bench gemm                             measure the GEMM engine
            """,
        version: "0.1.0",
        subcommands: [DemoCommand.self, TrainCommand.self, EvalCommand.self, DoctorCommand.self, IndexCommand.self,
                      QueryCommand.self, SynthCommand.self, BenchCommand.self]
    )

    /// Starts again with the best BLAS kernel where OpenBLAS fell back by itself, then runs the
    /// command.
    static func main() {
        BLASRestart.ifNeeded()
        main(nil)
    }
}
