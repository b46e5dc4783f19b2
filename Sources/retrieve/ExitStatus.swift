// How the tool ends: one table of exit statuses (printed in every --help and in the README),
// and the one place that turns a thrown error into a line on stderr — `error: FILE: what
// happened (what to do)` — and its status, so no failure can exit 0 and no command words its
// errors differently.
import ArgumentParser
import Cluster
import Foundation
import Retrieval
import Search
import Vision

enum ExitStatus: Int32, CaseIterable {
    case done = 0
    case failed = 1
    case noKnownWord = 2
    case collapsedOrMismatch = 3
    case damagedFile = 4
    case usage = 64
    case interrupted = 130

    /// What each status means, one line each (kept under 80 columns for --help).
    static let table = """
        Exit status:
          0    done
          1    failed: a missing or unreadable file, or data that cannot be used
          2    query: a query with no word the model knows (with --queries, the
               lines that could not be answered; the others are answered)
          3    train, doctor: a collapse stopped the run or the run ended collapsed;
               index, query: the model is not the one the index was built with
          4    a damaged index or model file (a checksum fails, or it is not one):
               the message names the command that rebuilds it
          64   a bad flag or argument
          130  interrupted (Ctrl-C, SIGTERM, or SIGUSR1 to mpirun): train saves a
               resumable state first
        """

    /// The status and the line to print for an error thrown by a command.
    static func of(_ error: any Error) -> (status: Int32, message: String) {
        switch error {
        case let e as CommandError: return (e.status.rawValue, e.description)
        case let e as SearchError:
            switch e {
            case .onlyUnknownWords, .onlyFunctionWords: return (noKnownWord.rawValue, e.description)
            case .modelMismatch, .modelMissing, .dimensionMismatch, .shardModelMismatch: return (collapsedOrMismatch.rawValue, e.description)
            default: return (failed.rawValue, e.description)
            }
        case let e as IndexFileError: return (damagedFile.rawValue, e.description)
        case let e as ModelFileError: return (damagedFile.rawValue, e.description)
        case let e as ValidationError: return (usage.rawValue, e.message)
        case let e as QuerySyntaxError: return (usage.rawValue, e.description)
        default: return (failed.rawValue, "\(error)")
        }
    }

    /// Parses the arguments, runs the command and exits: 0 when it returned, otherwise the
    /// status of what it threw, after one `error:` line (usage errors add the usage). Async
    /// commands (serve) are awaited; the others run as they are.
    static func main(_ root: any ParsableCommand.Type) async -> Never {
        var command: any ParsableCommand
        do {
            command = try root.parseAsRoot()
        } catch {
            exitParsing(root, error)
        }
        do {
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
            exit(0)
        } catch let code as ExitCode {
            exit(code.rawValue, agreed: true)  // the command printed its own account; every rank ends so
        } catch let shared as AgreedError {
            let (status, message) = of(shared.error)
            Console.error("error: \(message)")  // said once, by the leader
            exit(status, agreed: true)
        } catch let clean as CleanExit {
            exitParsing(root, clean)
        } catch let usage as ValidationError {
            Console.error("error: \(usage.message)")
            Console.error("See 'retrieve \(type(of: command).configuration.commandName ?? "") --help'.")
            exit(ExitStatus.usage.rawValue)
        } catch where String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
            exitParsing(root, error)  // e.g. the root command's help, requested through run()
        } catch {
            let (status, message) = of(error)
            Console.failure("error: \(message)")
            exit(status)
        }
    }

    /// Ends the process with `status`: a distributed run finalizes MPI when it went well or
    /// when every rank reached the same end (`agreed`: a collapse, Ctrl-C), and aborts the whole
    /// job on an error, which may be this rank's alone, so the others are never left waiting.
    private static func exit(_ status: Int32, agreed: Bool = false) -> Never {
        if Communicator.isRunningMPI {
            if status == 0 || agreed { Communicator.world.finalize() } else { Communicator.world.abort(code: status) }
        }
        Foundation.exit(status)
    }

    /// ArgumentParser's own account of a parse error or help request, in our error style.
    private static func exitParsing(_ root: any ParsableCommand.Type, _ error: any Error) -> Never {
        let code = root.exitCode(for: error).rawValue
        var message = root.fullMessage(for: error)
        if message.hasPrefix("Error: ") { message = "error: " + message.dropFirst(7) }
        if code == 0 {
            if !message.isEmpty { print(message) }
        } else {
            Console.error(message)
        }
        exit(code)
    }
}

/// A failure the command reports in one line (`error: …`) and exits on with `status`.
/// An error every rank of a distributed run reaches alike, from the same inputs (a query whose
/// words the shared model does not know): the leader says it once and every rank ends with its
/// status, with no abort.
struct AgreedError: Error {
    let error: any Error
}

struct CommandError: Error, CustomStringConvertible {
    let description: String
    let status: ExitStatus
    init(_ description: String, status: ExitStatus = .failed) {
        self.description = description
        self.status = status
    }
}
