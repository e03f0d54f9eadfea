/// Encoding and decoding of whole request and response payloads.

/// A request as a client sends it.
public struct RequestMessage: Sendable {
    public var id: UInt32
    public var request: Request
    public init(id: UInt32, request: Request) {
        self.id = id
        self.request = request
    }

    /// The complete frame, length prefix included.
    public func encodeFrame(version: UInt8 = Frame.protocolVersion) -> [UInt8] {
        var w = WireWriter(capacity: 64)
        w.beginFrame()
        w.u8(version)
        w.u8(request.opcode.rawValue)
        w.u32(id)
        request.encodeBody(into: &w)
        return w.finishFrame()
    }
}

/// What the daemon makes of a request payload: a request to serve, a
/// refusal of a peer that may not use the opcode (decided from the header,
/// before the body is read), or the error to answer with (echoing whatever
/// id and opcode could be read).  A failure with request id 0 is
/// connection-level: the daemon closes the connection after answering it.
public enum DecodedRequest: Sendable {
    case request(id: UInt32, Request)
    case denied(id: UInt32, opcode: Opcode)
    case failure(id: UInt32, opcode: UInt8, status: Status, message: String)
}

extension RequestMessage {
    /// Request id 0 is reserved for the daemon's connection-level errors.
    public static let reservedID: UInt32 = 0

    /// Decodes a request payload (the bytes after the length prefix).
    /// Checked in order: the header is whole, the request id is not 0, the
    /// version, the opcode, `permits(opcode)`, then the body.
    public static func decode(
        payload: UnsafeRawBufferPointer, permits: (Opcode) -> Bool = { _ in true }
    ) -> DecodedRequest {
        var r = WireReader(payload)
        guard payload.count >= Frame.requestHeaderSize else {
            return .failure(
                id: 0, opcode: 0, status: .badRequest,
                message: "frame of \(payload.count) bytes is shorter than a request header (6 bytes)")
        }
        // The header cannot fail after the length check above.
        let version = (try? r.u8("version")) ?? 0
        let rawOpcode = (try? r.u8("opcode")) ?? 0
        let id = (try? r.u32("request_id")) ?? 0
        guard id != reservedID else {
            return .failure(
                id: 0, opcode: 0, status: .badRequest,
                message: "request id 0 is reserved for connection-level errors")
        }
        guard version >= Frame.minProtocolVersion, version <= Frame.protocolVersion else {
            return .failure(
                id: id, opcode: rawOpcode, status: .unsupportedVersion,
                message:
                    "protocol version \(version) is not supported (supported: \(Frame.minProtocolVersion)-\(Frame.protocolVersion))"
            )
        }
        guard let opcode = Opcode(rawValue: rawOpcode) else {
            return .failure(
                id: id, opcode: rawOpcode, status: .unknownOpcode, message: "unknown opcode \(rawOpcode)")
        }
        guard permits(opcode) else { return .denied(id: id, opcode: opcode) }
        do {
            return .request(id: id, try Request.decodeBody(opcode, from: &r))
        } catch {
            return .failure(
                id: id, opcode: rawOpcode, status: .badRequest, message: "\(opcode): \(error.message)")
        }
    }
}

/// A response as the daemon sends it.
public struct ResponseMessage: Sendable {
    public var id: UInt32
    public var opcode: UInt8
    public var status: Status
    /// The body of an `ok` response.
    public var reply: Reply?
    /// The message of any other status (may be empty).
    public var message: String

    public init(id: UInt32, opcode: UInt8, status: Status, reply: Reply?, message: String) {
        self.id = id
        self.opcode = opcode
        self.status = status
        self.reply = reply
        self.message = message
    }

    /// An `ok` response frame.
    public static func encodeSuccess(id: UInt32, opcode: Opcode, reply: Reply) -> [UInt8] {
        var w = WireWriter(capacity: 128)
        appendSuccess(id: id, opcode: opcode, reply: reply, to: &w)
        return w.bytes
    }

    /// A failure response frame carrying a human message.
    public static func encodeFailure(id: UInt32, opcode: UInt8, status: Status, message: String)
        -> [UInt8]
    {
        var w = WireWriter(capacity: 32 + message.utf8.count)
        appendFailure(id: id, opcode: opcode, status: status, message: message, to: &w)
        return w.bytes
    }

    /// Appends an `ok` response frame to `w` (which may already hold frames).
    public static func appendSuccess(id: UInt32, opcode: Opcode, reply: Reply, to w: inout WireWriter) {
        let start = w.beginFrame()
        header(&w, id: id, opcode: opcode.rawValue, status: .ok)
        reply.encodeBody(into: &w)
        w.endFrame(startingAt: start)
    }

    /// Appends a failure response frame to `w` (which may already hold frames).
    public static func appendFailure(
        id: UInt32, opcode: UInt8, status: Status, message: String, to w: inout WireWriter
    ) {
        let start = w.beginFrame()
        header(&w, id: id, opcode: opcode, status: status)
        // Messages are capped so a failure always fits in a small frame.
        w.string(message.utf8.count <= 1024 ? message : String(message.prefix(1024)))
        w.endFrame(startingAt: start)
    }

    private static func header(_ w: inout WireWriter, id: UInt32, opcode: UInt8, status: Status) {
        w.u8(Frame.protocolVersion)
        w.u8(opcode)
        w.u32(id)
        w.u16(status.rawValue)
    }

    /// Decodes a response payload (the bytes after the length prefix).
    public static func decode(payload: UnsafeRawBufferPointer) throws(WireDecodeError)
        -> ResponseMessage
    {
        var r = WireReader(payload)
        let version = try r.u8("version")
        guard version == Frame.protocolVersion else {
            throw WireDecodeError("response has protocol version \(version)")
        }
        let rawOpcode = try r.u8("opcode")
        let id = try r.u32("request_id")
        let status = Status(rawValue: try r.u16("status"))
        if status != .ok {
            // Older daemons may send an empty body; newer ones a message.
            let message = r.remaining == 0 ? "" : try r.string("message")
            return ResponseMessage(
                id: id, opcode: rawOpcode, status: status, reply: nil, message: message)
        }
        guard let opcode = Opcode(rawValue: rawOpcode) else {
            throw WireDecodeError("response to unknown opcode \(rawOpcode)")
        }
        return ResponseMessage(
            id: id, opcode: rawOpcode, status: status, reply: try Reply.decodeBody(opcode, from: &r),
            message: "")
    }
}

/// Splits a byte stream into frames, refusing an over-long length prefix
/// before buffering it.  Used by clients and tests; the daemon's NIO decoder
/// applies the same `Frame.check`.
public struct FrameSplitter: Sendable {
    public let maxFrameBytes: Int
    private var buffer: [UInt8] = []
    private var start = 0

    public init(maxFrameBytes: Int = 16 * 1024 * 1024) { self.maxFrameBytes = maxFrameBytes }

    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete payload, nil when more bytes are needed.
    public mutating func next() throws(WireDecodeError) -> [UInt8]? {
        let available = buffer.count - start
        guard available >= Frame.lengthPrefixSize else {
            compact()
            return nil
        }
        let length =
            UInt32(buffer[start]) << 24 | UInt32(buffer[start + 1]) << 16
            | UInt32(buffer[start + 2]) << 8 | UInt32(buffer[start + 3])
        switch Frame.check(length: length, max: maxFrameBytes) {
        case .empty: throw WireDecodeError("zero-length frame")
        case .tooLarge(let n):
            throw WireDecodeError("frame of \(n) bytes exceeds the cap of \(maxFrameBytes)")
        case .ok(let n):
            guard available >= Frame.lengthPrefixSize + n else {
                compact()
                return nil
            }
            let from = start + Frame.lengthPrefixSize
            let payload = Array(buffer[from..<from + n])
            start = from + n
            return payload
        }
    }

    private mutating func compact() {
        if start > 0 {
            buffer.removeFirst(start)
            start = 0
        }
    }
}
