// `retrieve serve [DIR | --index FILE]`: opens the index and its model once and answers the HTTP
// API and the web page (Serve) until Ctrl-C or SIGTERM, which let requests in flight finish.
// Prints the URL once listening; binds 127.0.0.1 unless --host says otherwise, and says so.
import ArgumentParser
import Foundation
import Search
import Serve

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Search an indexed folder from a web page or over a JSON API.",
        discussion: """
            The index is DIR/.retrieve/index.rtrv, or --index FILE, else the nearest .retrieve/index.rtrv from the current folder upwards. Open the printed URL in a browser: search by words, by a picture (drop or choose one), or both, with the query language of retrieve query ("a red bicycle" + #42 - 0.5*"rain"). The API is described in docs/serve.md.

            Only 127.0.0.1 (this machine) can connect unless --host is given: --host 0.0.0.0 shares the pictures with every machine that can reach this one. Ctrl-C or SIGTERM stops after the requests in flight are answered.

            With a model that holds a score calibration (measured on its validation pictures at training), each result of a caption query shows how likely it is a match, and the list stops below 50% likely unless asked for more ("Show the rest" on the page, all=true in the API).

            Examples:
              retrieve serve photos
              retrieve serve --index photos/.retrieve/index.rtrv --port 0   (any free port)
              retrieve serve photos --host 0.0.0.0 --port 8080 --dedup

            \(ExitStatus.table)
            """
    )

    @Argument(help: ArgumentHelp("The indexed folder (default: the nearest index upwards).", valueName: "dir"))
    var folder: String?

    @Option(help: ArgumentHelp("Index file instead of DIR's.", valueName: "file"))
    var index: String?

    @Option(help: ArgumentHelp("Model file (default: the one the index records; must be the same model).", valueName: "model"))
    var model: String?

    @Option(help: ArgumentHelp("Address to listen on (0.0.0.0: every network of this machine).", valueName: "addr"))
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port).")
    var port = 8080

    @Flag(help: "Fold near-identical results by default (a request can still say dedup=false).")
    var dedup = false

    @Option(help: ArgumentHelp("Memory for cached thumbnails, in MB.", valueName: "mb"))
    var thumbnailCache = 64

    @Option(help: ArgumentHelp("Largest request body (an uploaded picture), in MB.", valueName: "mb"))
    var maxUpload = 12

    func validate() throws {
        if folder != nil && index != nil { throw ValidationError("give DIR or --index FILE, not both") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535, got \(port)") }
        guard !host.isEmpty else { throw ValidationError("--host must name an address, e.g. 127.0.0.1 or 0.0.0.0") }
        guard (1...4096).contains(thumbnailCache) else { throw ValidationError("--thumbnail-cache must be from 1 to 4096 MB, got \(thumbnailCache)") }
        guard (1...512).contains(maxUpload) else { throw ValidationError("--max-upload must be from 1 to 512 MB, got \(maxUpload)") }
    }

    func run() async throws {
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let indexURL = index.map { URL(fileURLWithPath: $0) }
            ?? folder.map { IndexLocation.existingIndex(forFolder: URL(fileURLWithPath: $0)) }
            ?? IndexLocation.find(from: cwd)
        guard let indexURL else { throw SearchError.noIndexFound(searchedFrom: cwd.path) }
        guard FileManager.default.fileExists(atPath: indexURL.path) else {
            throw CommandError("\(indexURL.path): no index there (run retrieve index \(folder ?? "DIR") --model MODEL first)")
        }
        let search = try ImageSearch(indexFile: indexURL, modelFile: model.map { URL(fileURLWithPath: $0) })
        if let warning = search.model.calibrationWarning { Console.error("warning: \(warning)") }
        var configuration = ServeConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.dedup = dedup
        configuration.thumbnailCacheBytes = thumbnailCache << 20
        configuration.maxBodyBytes = maxUpload << 20
        let server = SearchServer(search: search, configuration: configuration)
        let rows = search.index.count
        let host = self.host
        do {
            try await server.run { url in
                print("retrieve serve: \(rows) pictures of \(search.root.path) at \(url.absoluteString)")
                fflush(stdout)
                if host == "127.0.0.1" || host == "localhost" || host == "::1" {
                    Console.error("listening on \(host) only: other machines cannot connect (--host 0.0.0.0 shares it with your network)")
                } else {
                    Console.error("listening on \(host): every machine that can reach this one can search these pictures")
                }
                Console.error("Ctrl-C stops")
            }
        } catch {
            throw CommandError("cannot serve on \(host):\(port): \(error) (is another server on that port? --port 0 picks a free one)")
        }
        Console.error("stopped")
    }
}
