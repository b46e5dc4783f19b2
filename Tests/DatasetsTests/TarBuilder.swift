// Writes small tar archives byte by byte for the shard tests: plain ustar members, a name in the
// ustar prefix, GNU long names and pax path records, so each header form the reader accepts is
// exercised, and damaged or cut archives can be made from the bytes.
import Foundation
import Vision

struct TarBuilder {
    var bytes: [UInt8] = []

    mutating func add(_ name: String, _ data: [UInt8], type: UInt8 = UInt8(ascii: "0"), prefix: String = "") {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, width: Int) {
            for (i, byte) in text.utf8.prefix(width).enumerated() { header[offset + i] = byte }
        }
        func octal(_ value: Int, width: Int) -> String {
            let digits = String(value, radix: 8)
            return String(repeating: "0", count: width - 1 - digits.count) + digits
        }
        put(name, at: 0, width: 100)
        put("0000644", at: 100, width: 8)
        put("0000000", at: 108, width: 8)
        put("0000000", at: 116, width: 8)
        put(octal(data.count, width: 12), at: 124, width: 12)
        put(octal(0, width: 12), at: 136, width: 12)
        header[156] = type
        put("ustar", at: 257, width: 6)
        put("00", at: 263, width: 2)
        put(prefix, at: 345, width: 155)
        for i in 148..<156 { header[i] = UInt8(ascii: " ") }
        let sum = header.reduce(0) { $0 + Int($1) }
        put(octal(sum, width: 7), at: 148, width: 7)
        bytes += header + data + [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
    }

    /// A member whose name is too long for the header, as GNU tar writes it.
    mutating func addLongName(_ name: String, _ data: [UInt8]) {
        add("././@LongLink", Array(name.utf8) + [0], type: UInt8(ascii: "L"))
        add(String(name.prefix(99)), data)
    }

    /// A member named by a pax extended header, as `tar --format=pax` and Python write it.
    mutating func addPax(_ name: String, _ data: [UInt8]) {
        let body = " path=\(name)\n"
        var length = body.utf8.count + 1
        while String(length).utf8.count + body.utf8.count != length { length += 1 }
        add("PaxHeaders/x", Array("\(length)\(body)".utf8), type: UInt8(ascii: "x"))
        add("placeholder", data)
    }

    mutating func finish() { bytes += [UInt8](repeating: 0, count: 1024) }

    func write(to url: URL) throws { try Data(bytes).write(to: url) }

    /// A PNG of one colour, `side` px square.
    static func png(_ colour: (UInt8, UInt8, UInt8), side: Int = 16) throws -> [UInt8] {
        Array(try RGBImage(width: side, height: side, fill: colour).pngData())
    }
}
