// The page's routes: `/` (also the only path that answers HTML), its stylesheet, script and icon,
// all compiled into the binary. The Content-Security-Policy allows only these files and the
// API's thumbnails (plus blob: for the preview of a picture being uploaded): no CDN, no inline code.
import Hummingbird

enum PageRoutes {
    static let policy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; "
        + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    static func add(to router: Router<BasicRequestContext>) {
        let files: [(String, String, String)] = [
            ("/", "text/html; charset=utf-8", PageHTML.source),
            ("/app.css", "text/css; charset=utf-8", PageStyle.source),
            ("/app.js", "text/javascript; charset=utf-8", PageScript.source),
            ("/favicon.svg", "image/svg+xml", PageHTML.favicon),
        ]
        for (path, type, text) in files {
            let body = ByteBuffer(string: text)
            router.get(RouterPath(path)) { _, _ in
                Response(status: .ok,
                         headers: [.contentType: type, .cacheControl: "no-cache", .contentSecurityPolicy: policy],
                         body: ResponseBody(byteBuffer: body))
            }
        }
    }
}
