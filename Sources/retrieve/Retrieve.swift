// The command-line tool: the root command lists the subcommands and nothing else; `main` hands
// every outcome to ExitStatus, so each failure prints one `error:` line and exits non-zero.
// Every subcommand is a few lines over the libraries' public API; only this target prints.
import ArgumentParser

@main
struct Retrieve: AsyncParsableCommand {  // async for serve; the other commands run as before
    static let configuration = CommandConfiguration(
        commandName: "retrieve",
        abstract: "Train an image–text retrieval model on your captioned images and search images by text.",
        discussion: """
            Typical use:
              retrieve demo                          the whole story on generated data
              retrieve train --data captions.tsv --out model.safetensors
              retrieve eval --model model.safetensors --data captions.tsv --on test
              retrieve index photos --model model.safetensors
              retrieve query "a red circle" -k 5             (from inside photos/)
              retrieve serve photos                           a web page and a JSON API
              retrieve embed photos --out vectors             the vectors as .npy files
              mpirun -np 4 retrieve train …                   one model, 4 processes
              retrieve synth --out shapes --count 3000        generate the bundled data set
              retrieve bench gemm                             measure the GEMM engine

            Errors are one line on standard error: error: FILE: what happened (what to do).

            \(ExitStatus.table)
            """,
        version: "0.1.0",
        subcommands: [DemoCommand.self, TrainCommand.self, EvalCommand.self, DoctorCommand.self, IndexCommand.self,
                      QueryCommand.self, ServeCommand.self, EmbedCommand.self, SynthCommand.self, BenchCommand.self]
    )

    /// Starts again with the best BLAS kernel where OpenBLAS fell back by itself, then runs the
    /// command through ExitStatus.
    static func main() async {
        BLASRestart.ifNeeded()
        await ExitStatus.main(Self.self)
    }
}
