import SquallReferenceProtocol
import Testing

/// The words the real client, the real server and the simulator all use for one failure.
@Suite struct FailureReasonTests {
    @Test func anAnswersReasonIsReadFromTheServersOrTheProxysBody() {
        let server = Array(#"{"error":"not_found","message":"no job 'j'"}"#.utf8)
        let proxy = Array(#"{"error":"request failed by squall fail_requests","status":503}"#.utf8)
        #expect(FailureReason.answered(status: 404, body: server).description == "HTTP 404: no job 'j'")
        #expect(
            FailureReason.answered(status: 503, body: proxy).description
                == "HTTP 503: request failed by squall fail_requests"
        )
        #expect(FailureReason.answered(status: 502, body: Array("<html>".utf8)).description == "HTTP 502")
        #expect(FailureReason.answered(status: 500, body: []).description == "HTTP 500")
    }

    @Test func anUpgradeRefusalNamesTheErrorItsBodyNames() {
        let server = Array(#"{"error":"service_unavailable","message":"restarting"}"#.utf8)
        let proxy = Array(#"{"error":"WebSocket upgrade blocked by proxy","status":403}"#.utf8)
        #expect(
            FailureReason.upgradeRejected(status: 503, body: server).description
                == "upgrade rejected: HTTP 503 (service_unavailable)"
        )
        #expect(
            FailureReason.upgradeRejected(status: 403, body: proxy).description
                == "upgrade rejected: HTTP 403 (WebSocket upgrade blocked by proxy)"
        )
        #expect(FailureReason.upgradeRejected(status: nil, body: [UInt8]()).description == "upgrade rejected: HTTP ?")
    }

    @Test func aLostConnectionSaysWhyWhenItKnows() {
        #expect(FailureReason.connectionLost(cause: nil).description == "connection lost")
        #expect(FailureReason.connectionLost(cause: .reset).description == "connection lost: connection reset")
        #expect(FailureReason.connectionLost(cause: .other("EOF")).description == "connection lost: EOF")
    }
}
