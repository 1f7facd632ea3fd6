import SquallReferenceProtocol

/// One job's progress as a value: the messages it has published (kept for polling and replay) and its status. The
/// reference server keeps one per job in its ``JobStore``; Squall's simulator runs the same value on a virtual
/// clock, so both publish the same messages.
///
/// A message is kept as its item and timestamp (16 bytes) and written out again when asked for: everything else in
/// it follows from the job. A million-client simulation keeps a million jobs' messages.
package struct JobProgress: Sendable, Hashable {
    /// What a published message is made from.
    private struct Publication: Sendable, Hashable {
        /// The item (1-based).
        var item: Int32
        /// When, ms since the epoch.
        var timestamp: Int64
    }

    /// The job's id.
    package let jobId: String
    /// Its item count, pace and failure point.
    package let creation: JobCreation
    /// Every message published, in `seq` order (the message of seq n is the n-th).
    private var published: [Publication] = []
    /// Running until its final message.
    package private(set) var status = JobState.Status.running

    /// A job that has published nothing yet.
    package init(jobId: String, creation: JobCreation) {
        self.jobId = jobId
        self.creation = creation
        self.published.reserveCapacity(min(max(creation.totalItems, 0), 4_096))
    }

    /// Every message published, in `seq` order.
    package var messages: [ProgressMessage] {
        self.published.indices.map(self.message(at:))
    }

    /// The number of messages published: the last one's seq.
    package var lastSeq: Int { self.published.count }

    /// The message of `seq` index + 1.
    private func message(at index: Int) -> ProgressMessage {
        let publication = self.published[index]
        let item = Int(publication.item)
        let total = self.creation.totalItems
        let type: ProgressMessage.MessageType
        let text: String
        if let failure = self.creation.failAfterItems, item >= failure {
            type = .error
            text = "Failed at item \(item)"
        } else if item >= total {
            type = .complete
            text = "Completed \(total) items"
        } else {
            type = .progress
            text = "Processing item \(item)"
        }
        return ProgressMessage(
            type: type,
            jobId: self.jobId,
            seq: index + 1,
            timestamp: publication.timestamp,
            data: ProgressData(
                progress: Double(item) / Double(total),
                processedItems: item,
                totalItems: total,
                currentStatus: text
            )
        )
    }

    /// Publishes the message for `item` (1-based) at `time` (ms since the epoch): `progress`, or `complete` for the
    /// last item, or `error` at the job's `failAfterItems`.
    ///
    /// - Returns: the message, or nil when the job has already ended.
    package mutating func publish(item: Int, time: Double) -> ProgressMessage? {
        guard self.status == .running, let stored = Int32(exactly: item) else { return nil }
        self.published.append(Publication(item: stored, timestamp: Int64(time.rounded(.down))))
        let message = self.message(at: self.published.count - 1)
        if message.isFinal {
            self.status = message.type == .complete ? .completed : .failed
        }
        return message
    }

    /// The messages after `lastSeq`, for a stream's replay.
    package func messages(after lastSeq: Int) -> ArraySlice<ProgressMessage> {
        let first = min(max(lastSeq, 0), self.published.count)
        return (first..<self.published.count).map(self.message(at:))[...]
    }

    /// The job-state answer: status, counts and every message after `since`.
    package func state(since: Int) -> JobState {
        JobState(
            jobId: self.jobId,
            status: self.status,
            processedItems: self.published.last.map { Int($0.item) } ?? 0,
            totalItems: self.creation.totalItems,
            lastSeq: self.published.count,
            messages: Array(self.messages(after: since))
        )
    }
}
