import SquallReferenceProtocol

/// One job's progress as a value: the messages it has published (kept for polling and replay) and its status. The
/// reference server keeps one per job in its ``JobStore``; Squall's simulator runs the same value on a virtual
/// clock, so both publish the same messages.
package struct JobProgress: Sendable, Hashable {
    /// The job's id.
    package let jobId: String
    /// Its item count, pace and failure point.
    package let creation: JobCreation
    /// Every message published, in `seq` order.
    package private(set) var messages: [ProgressMessage] = []
    /// Running until its final message.
    package private(set) var status = JobState.Status.running

    /// A job that has published nothing yet.
    package init(jobId: String, creation: JobCreation) {
        self.jobId = jobId
        self.creation = creation
    }

    /// Publishes the message for `item` (1-based) at `time` (ms since the epoch): `progress`, or `complete` for the
    /// last item, or `error` at the job's `failAfterItems`.
    ///
    /// - Returns: the message, or nil when the job has already ended.
    package mutating func publish(item: Int, time: Double) -> ProgressMessage? {
        guard self.status == .running else { return nil }
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
        let message = ProgressMessage(
            type: type,
            jobId: self.jobId,
            seq: self.messages.count + 1,
            timestamp: Int64(time.rounded(.down)),
            data: ProgressData(
                progress: Double(item) / Double(total),
                processedItems: item,
                totalItems: total,
                currentStatus: text
            )
        )
        self.messages.append(message)
        if message.isFinal {
            self.status = type == .complete ? .completed : .failed
        }
        return message
    }

    /// The messages after `lastSeq`, for a stream's replay.
    package func messages(after lastSeq: Int) -> ArraySlice<ProgressMessage> {
        self.messages.drop { $0.seq <= lastSeq }
    }

    /// The job-state answer: status, counts and every message after `since`.
    package func state(since: Int) -> JobState {
        let last = self.messages.last
        return JobState(
            jobId: self.jobId,
            status: self.status,
            processedItems: last?.data.processedItems ?? 0,
            totalItems: self.creation.totalItems,
            lastSeq: last?.seq ?? 0,
            messages: Array(self.messages(after: since))
        )
    }
}
