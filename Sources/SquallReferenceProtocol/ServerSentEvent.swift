/// One Server-Sent Event as a `text/event-stream` carries it (WHATWG HTML, "Server-sent events"): its type, its
/// data and the last event id in force when it was dispatched.
package struct ServerSentEvent: Sendable, Hashable {
    /// The `event:` field, `message` when the block set none.
    package var type: String
    /// The `data:` lines joined with line feeds.
    package var data: String
    /// The last `id:` the stream set at or before this event (what a client sends back as `Last-Event-ID`); empty
    /// when none was set.
    package var lastEventId: String

    /// An event of `type` with `data`, after the stream set `lastEventId`.
    package init(type: String = "message", data: String, lastEventId: String = "") {
        self.type = type
        self.data = data
        self.lastEventId = lastEventId
    }

    /// The event as a block of the stream, ending in its blank line: `id:` (when `id` is given), `event:` (unless
    /// `message`), one `data:` line per line of data.
    ///
    /// - Parameter id: the id to set, or nil to leave the stream's last id as it is.
    package func encoded(id: String?) -> [UInt8] {
        var text = ""
        if let id { text += "id: \(id)\n" }
        if self.type != "message" { text += "event: \(self.type)\n" }
        // A line break of any kind in the data starts a new `data:` line, as a reader splits them.
        var line = ""
        var previousWasCarriageReturn = false
        for scalar in self.data.unicodeScalars {
            switch scalar {
            case "\r":
                text += "data: \(line)\n"
                line = ""
                previousWasCarriageReturn = true
                continue
            case "\n" where previousWasCarriageReturn:
                previousWasCarriageReturn = false
                continue
            case "\n":
                text += "data: \(line)\n"
                line = ""
            default:
                line.unicodeScalars.append(scalar)
            }
            previousWasCarriageReturn = false
        }
        text += "data: \(line)\n\n"
        return Array(text.utf8)
    }

    /// A comment block (`: text` and its blank line), what servers send to keep an idle stream open.
    package static func comment(_ text: String) -> [UInt8] {
        Array(":\(text.isEmpty ? "" : " " + text)\n\n".utf8)
    }

    /// A block that sets the client's reconnection time (`retry: N`) and nothing else.
    package static func retry(milliseconds: Int) -> [UInt8] {
        Array("retry: \(milliseconds)\n\n".utf8)
    }
}
