/// A change to a proxied socket's pipeline that its current shape does not allow: the connection is closed with
/// this as its reason, and no handler is changed.
struct PipelineShapeError: Error, CustomStringConvertible {
    /// The socket whose pipeline was asked to change.
    let side: ProxyLinkStateMachine.Side
    /// What it inspected its stream as.
    let shape: PipelineShape
    /// What asked for the change.
    let event: PipelineShape.Event

    var description: String {
        "the \(self.side) stream cannot follow '\(self.event)' while it is inspected as \(self.shape)"
    }
}
