// One line chart as inline SVG: several named series over the training steps, linear or log
// y axis, ticks, a legend, and vertical markers (alarms) with labels. Plain text, no script,
// no network: it renders in any browser and survives being mailed around.
import Foundation

struct SVGChart {
    struct Series {
        var name: String
        var points: [(x: Double, y: Double)]
        var colour: String
        var dashed = false
        /// Draw a dot at each point (sparse series such as evaluations).
        var dots = false
    }

    struct Marker {
        var x: Double
        var label: String
        var colour: String
    }

    var title: String
    var series: [Series]
    var markers: [Marker] = []
    var logScale = false
    var width = 860.0
    var height = 260.0

    private let left = 64.0, right = 16.0, top = 44.0, bottom = 36.0

    func render() -> String {
        let finite = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite && (!logScale || $0.y > 0) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\" role=\"img\">"
        svg += "<text x=\"\(f(left))\" y=\"18\" class=\"title\">\(escapeHTML(title))</text>"
        guard !finite.isEmpty else {
            return svg + "<text x=\"\(f(left))\" y=\"60\" class=\"note\">no data</text></svg>"
        }
        let xs = finite.map(\.x), ys = finite.map { logScale ? log10($0.y) : $0.y }
        var (x0, x1) = (xs.min()!, xs.max()!)
        var (y0, y1) = (ys.min()!, ys.max()!)
        if x1 - x0 < 1e-12 { x0 -= 1; x1 += 1 }
        if y1 - y0 < 1e-12 * max(1, abs(y1)) { y0 -= max(0.5, abs(y0) * 0.1); y1 += max(0.5, abs(y1) * 0.1) }
        let pad = (y1 - y0) * 0.05
        y0 -= pad; y1 += pad
        let plotW = width - left - right, plotH = height - top - bottom
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * plotW }
        func py(_ y: Double) -> Double { top + (1 - ((logScale ? log10(y) : y) - y0) / (y1 - y0)) * plotH }

        svg += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" class=\"frame\"/>"
        for tick in ticks(y0, y1, log: logScale) {
            let y = py(tick)
            svg += "<line x1=\"\(f(left))\" x2=\"\(f(left + plotW))\" y1=\"\(f(y))\" y2=\"\(f(y))\" class=\"grid\"/>"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" class=\"tick\" text-anchor=\"end\">\(label(tick))</text>"
        }
        for tick in ticks(x0, x1, log: false) {
            let x = px(tick)
            svg += "<line x1=\"\(f(x))\" x2=\"\(f(x))\" y1=\"\(f(top + plotH))\" y2=\"\(f(top + plotH + 4))\" class=\"axis\"/>"
            svg += "<text x=\"\(f(x))\" y=\"\(f(top + plotH + 16))\" class=\"tick\" text-anchor=\"middle\">\(label(tick))</text>"
        }
        svg += "<text x=\"\(f(left + plotW))\" y=\"\(f(height - 4))\" class=\"tick\" text-anchor=\"end\">step</text>"
        var placed: [Double] = []  // label positions so far: markers close together stack their labels
        for marker in markers where marker.x >= x0 && marker.x <= x1 {
            let x = px(marker.x)
            let row = Double(placed.filter { abs($0 - x) < 90 }.count)
            placed.append(x)
            let nearRight = x > left + plotW - 90
            svg += "<line x1=\"\(f(x))\" x2=\"\(f(x))\" y1=\"\(f(top))\" y2=\"\(f(top + plotH))\" stroke=\"\(marker.colour)\" class=\"marker\"><title>\(escapeHTML(marker.label))</title></line>"
            svg += "<text x=\"\(f(nearRight ? x - 3 : x + 3))\" y=\"\(f(top + 10 + 11 * row))\" class=\"mlabel\" fill=\"\(marker.colour)\"\(nearRight ? " text-anchor=\"end\"" : "")>\(escapeHTML(marker.label))</text>"
        }
        for s in series {
            let points = s.points.filter { $0.x.isFinite && $0.y.isFinite && (!logScale || $0.y > 0) }
            guard !points.isEmpty else { continue }
            let path = points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            svg += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(s.colour)\" stroke-width=\"1.6\"\(s.dashed ? " stroke-dasharray=\"5 4\"" : "")/>"
            if s.dots || points.count == 1 {
                for p in points { svg += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"2.8\" fill=\"\(s.colour)\"/>" }
            }
        }
        var legendX = left
        for s in series {
            svg += "<line x1=\"\(f(legendX))\" x2=\"\(f(legendX + 14))\" y1=\"\(f(top - 10))\" y2=\"\(f(top - 10))\" stroke=\"\(s.colour)\" stroke-width=\"2.5\"\(s.dashed ? " stroke-dasharray=\"4 2\"" : "")/>"
            svg += "<text x=\"\(f(legendX + 18))\" y=\"\(f(top - 6))\" class=\"legend\">\(escapeHTML(s.name))</text>"
            legendX += 30 + Double(s.name.count) * 6.2
        }
        return svg + "</svg>"
    }

    /// About five round ticks between a and b (log10 space when `log`: decades).
    private func ticks(_ a: Double, _ b: Double, log: Bool) -> [Double] {
        if log {
            let lo = Int(a.rounded(.up)), hi = Int(b.rounded(.down))
            if hi - lo >= 1 { return (lo...hi).map { pow(10, Double($0)) } }
            // Less than two decades in view: 1, 2 and 5 times each power of ten.
            return (Int(a.rounded(.down))...Int(b.rounded(.up))).flatMap { k in [1.0, 2, 5].map { $0 * pow(10, Double(k)) } }
                .filter { log10($0) >= a && log10($0) <= b }
        }
        let raw = (b - a) / 5
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var out: [Double] = []
        var t = (a / step).rounded(.up) * step
        while t <= b + step * 1e-9 && out.count < 20 { out.append(t); t += step }
        return out
    }

    private func label(_ v: Double) -> String {
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= 1e4 || a < 1e-3 { return String(format: "%.0e", v) }
        if a >= 100 || v == v.rounded() { return String(format: "%.0f", v) }
        return String(format: "%.3g", v)
    }

    private func f(_ v: Double) -> String { String(format: "%.1f", v) }
}

/// Text safe inside HTML and SVG.
func escapeHTML(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.count)
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        default: out.append(c)
        }
    }
    return out
}
