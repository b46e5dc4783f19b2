// The contents of a safetensors file once read: float tensors, integer tensors, metadata,
// and the tensor order on disk. Also the dtypes understood and how their bytes become
// Float or Int64 values.

/// Element types this reader understands, by their safetensors names.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case f32 = "F32", f64 = "F64", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8"
    case u32 = "U32", u16 = "U16", u8 = "U8", bool = "BOOL"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f64, .i64: return 8
        case .f32, .i32, .u32: return 4
        case .f16, .bf16, .i16, .u16: return 2
        case .i8, .u8, .bool: return 1
        }
    }

    /// Floating dtypes are read into `Tensor` (as Float); the rest into `IntegerTensor`.
    public var isFloatingPoint: Bool { self == .f32 || self == .f64 || self == .f16 || self == .bf16 }
}

/// A shaped array of integers (token ids, counts) read from or written to safetensors.
/// Every integer dtype widens to Int64 on reading; writing always stores I64.
public struct IntegerTensor: Equatable, Sendable {
    public let shape: [Int]
    /// Read-only from outside, so its length stays the shape's product.
    public private(set) var data: [Int64]

    public init(shape: [Int], data: [Int64]) {
        precondition(shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == data.count,
                     "shape \(shape) does not hold \(data.count) values")
        self.shape = shape
        self.data = data
    }
}

/// Everything a safetensors file held, checked and decoded.
public struct SafetensorsFile: Sendable {
    /// The file it came from, for error messages.
    public let path: String
    /// The "__metadata__" dictionary (empty when the file has none).
    public var metadata: [String: String]
    /// Tensor names in the order their bytes appear in the file.
    public let names: [String]
    /// The stored dtype of every tensor (an F16 tensor is still F16 here, Float in `tensors`).
    public let dtypes: [String: SafetensorsDType]
    /// Tensors of floating dtype, converted to Float (F64 rounds, F16/BF16 widen exactly).
    public var tensors: [String: Tensor]
    /// Tensors of integer or boolean dtype, widened to Int64.
    public var integerTensors: [String: IntegerTensor]

    /// The float tensor called `name`, or a typed error naming the file.
    public func tensor(_ name: String) throws -> Tensor {
        if let t = tensors[name] { return t }
        if let dtype = dtypes[name] { throw SafetensorsError(path: path, .notFloat(tensor: name, dtype: dtype.rawValue)) }
        throw SafetensorsError(path: path, .missingTensor(name))
    }

    /// The integer tensor called `name`, or a typed error naming the file.
    public func integerTensor(_ name: String) throws -> IntegerTensor {
        guard let t = integerTensors[name] else { throw SafetensorsError(path: path, .missingTensor(name)) }
        return t
    }
}

#if _endian(big)
#error("safetensors I/O assumes a little-endian host")
#endif

/// Decodes `count` little-endian elements of a floating dtype starting at `bytes`.
func decodeFloats(_ bytes: UnsafeRawPointer, count: Int, dtype: SafetensorsDType) -> [Float] {
    var out = [Float](repeating: 0, count: count)
    out.withUnsafeMutableBufferPointer { o in
        switch dtype {
        case .f32:
            if count > 0 { UnsafeMutableRawPointer(o.baseAddress!).copyMemory(from: bytes, byteCount: count * 4) }
        case .f64:
            for i in 0..<count { o[i] = Float(Double(bitPattern: bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))) }
        case .bf16:
            for i in 0..<count { o[i] = Float(bitPattern: UInt32(bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) << 16) }
        case .f16:
            for i in 0..<count { o[i] = halfToFloat(bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) }
        default:
            preconditionFailure("\(dtype) is not a floating dtype")
        }
    }
    return out
}

/// Decodes `count` little-endian elements of an integer dtype starting at `bytes`.
func decodeIntegers(_ bytes: UnsafeRawPointer, count: Int, dtype: SafetensorsDType) -> [Int64] {
    var out = [Int64](repeating: 0, count: count)
    out.withUnsafeMutableBufferPointer { o in
        for i in 0..<count {
            switch dtype {
            case .i64: o[i] = bytes.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)
            case .i32: o[i] = Int64(bytes.loadUnaligned(fromByteOffset: i * 4, as: Int32.self))
            case .u32: o[i] = Int64(bytes.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
            case .i16: o[i] = Int64(bytes.loadUnaligned(fromByteOffset: i * 2, as: Int16.self))
            case .u16: o[i] = Int64(bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
            case .i8: o[i] = Int64(bytes.load(fromByteOffset: i, as: Int8.self))
            case .u8, .bool: o[i] = Int64(bytes.load(fromByteOffset: i, as: UInt8.self))
            default: preconditionFailure("\(dtype) is not an integer dtype")
            }
        }
    }
    return out
}

/// IEEE half → single, exact for every value including subnormals, ±Inf and NaN.
func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = Int(h >> 10) & 0x1F
    let mantissa = UInt32(h & 0x3FF)
    if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
    if exponent == 0 {
        let magnitude = Float(mantissa) * 0x1p-24
        return sign == 0 ? magnitude : -magnitude
    }
    return Float(bitPattern: sign | UInt32(exponent + 112) << 23 | (mantissa << 13))
}
