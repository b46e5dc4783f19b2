// Ctrl-C during training, as a user presses it: SIGINT finishes the step, saves a resumable
// state and exits 130; the bar stays at the step it stopped at (not redrawn as finished); the
// same command with --resume goes on from that step to the end.
import Foundation
import Testing

struct CLIInterruptTests {
    @Test func ctrlCSavesAStateThatResumes() throws {
        let w = try CLIWorkspace.get()
        let dir = try CommandLineTool.folder("interrupt")
        let model = dir.appendingPathComponent("m.safetensors")
        // 40 epochs of a few steps, a line every step: long enough to be interrupted in the middle.
        let arguments = ["train", "--data", w.captions, "--out", model.path, "--epochs", "40", "--log-every", "1"] + CLIWorkspace.quick
        let running = try RunningTool.start(arguments)
        let deadline = Date().addingTimeInterval(120)
        while !running.stderrSoFar.contains("epoch 3:") && running.process.isRunning && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        running.process.interrupt()  // SIGINT, as Ctrl-C sends
        let out = running.wait()
        #expect(out.status == 130, "\(out.all)")
        #expect(out.stderr.contains("interrupted: saving a resumable state"), "\(out.stderr)")
        let stopped = try #require(out.stdout.firstMatch(of: #/interrupted at step (\d+)/#).map { Int($0.output.1)! }, "\(out.stdout)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("m.state.safetensors").path))
        // The last bar line shows where it stopped, not the planned end.
        let bars = out.stderr.split(separator: "\n").filter { $0.hasPrefix("train ") }
        let total = try #require(bars.first?.firstMatch(of: #/ \d+\/(\d+) /#).map { Int($0.output.1)! }, "\(bars.prefix(2))")
        #expect(total % 40 == 0 && stopped > 0 && stopped < total, "step \(stopped) of \(total)")
        #expect(bars.last?.contains(" \(stopped)/\(total) ") == true, "\(bars.suffix(2))")

        let resumed = try CommandLineTool.run(arguments + ["--resume"])
        #expect(resumed.status == 0 || resumed.status == 3, "\(resumed.all)")  // 3: the tiny run may end overfitted
        #expect(resumed.stderr.contains("resuming at step \(stopped) of \(total)"), "\(resumed.stderr)")
        #expect(resumed.stdout.contains("trained \(total) steps"), "\(resumed.stdout)")
        // Resuming a finished run does nothing and says how to extend it; --epochs extends it.
        let again = try CommandLineTool.run(arguments + ["--resume"])
        #expect(again.status == 1 && again.stderr.contains("nothing to resume (pass --epochs 41 or more"), "\(again.all)")
        let longer = try CommandLineTool.run(["train", "--data", w.captions, "--out", model.path, "--epochs", "41",
                                              "--resume"] + CLIWorkspace.quick)
        #expect([0, 3].contains(longer.status) && longer.stderr.contains("extending the saved run from 40 epochs to 41 epochs (\(total / 40 * 41) steps)"), "\(longer.all)")
    }
}
