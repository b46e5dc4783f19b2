// Help texts as a reader meets them: every command's --help exits 0, prints the one exit-status
// table (the README's, word for word), wraps its paragraphs cleanly at 79 columns (no line
// broken before the width forced it, no table or example line wider), and names only flags the
// command has.
import Foundation
import Testing

struct CLIHelpTests {
    static let commands: [[String]] = [[], ["train"], ["eval"], ["doctor"], ["index"], ["query"], ["serve"], ["embed"], ["synth"], ["bench", "search"]]

    /// The exit-status block: "Exit status:" and the lines indented under it, less the
    /// block's own indentation (the README's sits in a list item).
    static func table(in text: String) -> [String] {
        let lines = text.components(separatedBy: "\n")
        guard let start = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "Exit status:" }) else { return [] }
        let indent = String(lines[start].prefix { $0 == " " })
        return [lines[start]].map { String($0.dropFirst(indent.count)) }
            + lines[(start + 1)...].prefix { $0.hasPrefix(indent + "  ") }.map { String($0.dropFirst(indent.count)) }
    }

    @Test(arguments: commands)
    func helpPrintsTheExitTableAndWrapsCleanly(command: [String]) throws {
        let out = try CommandLineTool.run(command + ["--help"])
        #expect(out.status == 0 && out.stderr.isEmpty, "\(out.all)")
        let readme = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("README.md"), encoding: .utf8)
        #expect(Self.table(in: out.stdout).count == 12, "\(out.stdout)")
        #expect(Self.table(in: out.stdout) == Self.table(in: readme), "README and --help disagree on the exit statuses")
        // The discussion: between the overview and USAGE. ArgumentParser fills paragraphs to 79
        // columns (an 80-column terminal); indented blocks (tables, examples, JSON shapes) are
        // printed as written and must fit too.
        let lines = out.stdout.components(separatedBy: "\n")
        let usage = lines.firstIndex { $0.hasPrefix("USAGE:") } ?? lines.count
        let discussion = Array(lines[1..<usage])
        let width = 79
        for (i, line) in discussion.enumerated() {
            #expect(line.count <= width, "wider than \(width) columns: \(line)")
            guard i + 1 < discussion.count, !line.isEmpty else { continue }
            let next = discussion[i + 1]
            guard !next.isEmpty, !next.hasPrefix(" "), let word = next.split(separator: " ").first else { continue }
            if line.hasPrefix(" ") {
                Issue.record("an indented line wrapped by the parser: \"\(line)\" / \"\(next)\"")
            } else {
                #expect(line.count + 1 + word.count > width, "line broken before the width forced it: \"\(line)\" / \"\(next)\"")
            }
        }
        // Flags named in the paragraphs (not the shared table or the examples) are the
        // command's own (doctor names train's --log-every).
        let paragraphs = discussion.filter { !$0.hasPrefix(" ") }.joined(separator: " ")
        let options = Set(lines[usage...].joined(separator: " ").matches(of: #/--[a-z][a-z0-9-]*/#).map { String($0.output) })
        let named = Set(paragraphs.matches(of: #/--[a-z][a-z0-9-]*/#).map { String($0.output) })
        let foreign: Set<String> = command == ["doctor"] ? ["--log-every"] : []
        #expect(!named.isEmpty || command == ["synth"] || command.isEmpty, "\(command): no flag named in the discussion")
        #expect(named.subtracting(options).subtracting(foreign).isEmpty, "\(command): \(named.subtracting(options).sorted())")
    }

    @Test func evalNamesTheOptionThatPicksThePart() throws {
        let out = try CommandLineTool.run(["eval", "--help"])
        #expect(out.stdout.contains("--on picks one part of the split"), "\(out.stdout)")
    }
}
