import NIOCore
import Testing
import VouchProtocol

@testable import VouchServer

/// The connection's decisions as plain values: events in, actions out, no
/// channel and no clock.
@Suite struct ConnectionStateMachineTests {
    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    static func machine(idle: Int64? = 3, frame: Int64 = 2, maxInFlight: Int = 4) -> ConnectionStateMachine {
        var m = ConnectionStateMachine(
            timeouts: .init(idle: idle.map { .seconds($0) }, frame: .seconds(frame)),
            maxRequestsInFlight: maxInFlight, now: start)
        let first = m.channelActive(now: start)
        #expect(first == start + .seconds(idle ?? frame))
        return m
    }

    func at(_ ms: Int64) -> NIODeadline { Self.start + .milliseconds(ms) }

    /// `#expect(a == b)` with `a` evaluated outside the macro (it mutates the machine).
    func expect<T: Equatable>(
        _ actual: T, _ expected: T, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(actual == expected, comment, sourceLocation: sourceLocation)
    }

    @Test func anIdleConnectionClosesAtTheIdleTimeout() {
        var m = Self.machine()
        expect(m.timerFired(now: at(3000)), .close(.idle))
        #expect(!m.isOpen)
    }

    @Test func aTimerFiredEarlyIsReArmedForTheIdleDeadline() {
        var m = Self.machine()
        m.frameReceived(keepalive: false, now: at(2000))
        expect(m.requestDecoded(id: 1), .dispatch)
        m.requestAnswered(refusedForLoad: false)
        expect(m.timerFired(now: at(3000)), .arm(at(5000)))
        expect(m.timerFired(now: at(5000)), .close(.idle))
    }

    @Test func pingsAreKeepalivesThatDoNotPostponeIdleness() {
        var m = Self.machine()
        for i in 1...5 {
            m.frameReceived(keepalive: true, now: at(Int64(i) * 500))
            expect(m.requestDecoded(id: UInt32(i)), .dispatch)
        }
        expect(m.timerFired(now: at(3000)), .close(.idle))
    }

    @Test func aRequestInFlightKeepsTheConnectionAndItsAnswerRestartsTheIdleTime() {
        var m = Self.machine()
        m.frameReceived(keepalive: false, now: at(2000))
        expect(m.requestDecoded(id: 7), .dispatch)
        m.requestDeferred(id: 7)
        expect(m.timerFired(now: at(5000)), .arm(at(8000)))
        expect(m.timerFired(now: at(32_000)), .arm(at(35_000)))
        expect(m.workerFinished(id: 7, now: at(33_000)), .write)
        expect(m.workerFinished(id: 7, now: at(33_000)), .unknownRequest, "answered once")
        expect(m.timerFired(now: at(35_000)), .arm(at(36_000)))
        expect(m.timerFired(now: at(36_000)), .close(.idle))
    }

    @Test func duplicateIdsAndTooManyInFlightAreRefusedAndOnlyTheLatterCountsAsLoad() {
        var m = Self.machine(maxInFlight: 2)
        for id: UInt32 in [1, 2] {
            expect(m.requestDecoded(id: id), .dispatch)
            m.requestDeferred(id: id)
        }
        expect(m.requestDecoded(id: 1), .refuse(.badRequest, "duplicate request id 1", loadRefusal: false))
        guard case .refuse(.limitExceeded, _, loadRefusal: true) = m.requestDecoded(id: 3) else {
            Issue.record("a third request in flight was not refused")
            return
        }
        #expect(m.inFlight == [1, 2])
        expect(m.readComplete(incompleteFrame: false, now: at(10)).pauseReadingUntil, at(11))
    }

    @Test func loadRefusalsPauseReadingForDoublingTimesThatEndWithACleanBurst() {
        var m = Self.machine(idle: 300)
        var pauses: [Int64] = []
        var now = at(0)
        for _ in 0..<10 {
            m.requestAnswered(refusedForLoad: true)
            let until = m.readComplete(incompleteFrame: false, now: now).pauseReadingUntil!
            pauses.append((until - now).nanoseconds / 1_000_000)
            expect(m.readRequested(isWritable: true), false, "no reading while paused")
            expect(m.pauseEnded(at: until, isWritable: true), true, "the pending read goes on")
            now = until
        }
        #expect(pauses == [1, 2, 4, 8, 16, 32, 64, 128, 128, 128])
        expect(m.readComplete(incompleteFrame: false, now: now).pauseReadingUntil, nil)
        m.requestAnswered(refusedForLoad: true)
        expect(m.readComplete(incompleteFrame: false, now: now).pauseReadingUntil, now + .milliseconds(1))
    }

    @Test func aPeerThatDoesNotReadIsNotReadFrom() {
        var m = Self.machine()
        expect(m.readRequested(isWritable: false), false)
        expect(m.writabilityChanged(isWritable: false), false)
        expect(m.writabilityChanged(isWritable: true), true)
        expect(m.writabilityChanged(isWritable: true), false, "one read per pending request")
        expect(m.readRequested(isWritable: true), true)
    }

    @Test func anIncompleteFrameIsCutOffAtTheFrameTimeoutFromItsFirstBytes() {
        var m = Self.machine(idle: 300, frame: 2)
        expect(m.readComplete(incompleteFrame: true, now: at(0)).armTimer, at(2000))
        expect(m.readComplete(incompleteFrame: true, now: at(500)).armTimer, nil, "already armed for it")
        expect(m.timerFired(now: at(2000)), .close(.slowFrame))
    }

    @Test func aSplitFrameCompletedInTimeIsNotCutOff() {
        var m = Self.machine(idle: 300, frame: 2)
        _ = m.readComplete(incompleteFrame: true, now: at(0))
        m.frameReceived(keepalive: false, now: at(900))
        _ = m.readComplete(incompleteFrame: false, now: at(900))
        expect(m.timerFired(now: at(2000)), .arm(at(300_900)))
    }

    @Test func aCondemnedConnectionReadsNothingMoreAndClosesAfterTheGrace() {
        var m = Self.machine(idle: nil)
        expect(m.condemn(now: at(0)), at(2000))
        expect(m.condemn(now: at(1)), nil)
        expect(m.requestDecoded(id: 1), .drop)
        expect(m.readRequested(isWritable: true), false)
        expect(m.timerFired(now: at(2000)), .close(.condemnedAnswerNotRead))
    }

    @Test func noIdleTimeoutMeansOnlyTheFrameDeadline() {
        var m = Self.machine(idle: nil, frame: 2)
        expect(m.timerFired(now: at(2000)), .arm(at(4000)))
        expect(m.readComplete(incompleteFrame: true, now: at(3600_000)).armTimer, nil)
        expect(m.timerFired(now: at(4000)), .arm(at(3602_000)))
        expect(m.timerFired(now: at(3602_000)), .close(.slowFrame))
    }

    @Test func closingReleasesWhatWasInFlight() {
        var m = Self.machine()
        for id: UInt32 in [1, 2, 3] { m.requestDeferred(id: id) }
        expect(m.channelInactive(), 3)
        expect(m.workerFinished(id: 2, now: at(1)), .unknownRequest)
        expect(m.channelInactive(), 0)
    }

    @Test func frameTimeoutIsTheIdleTimeoutAtMostTenSeconds() {
        #expect(ConnectionStateMachine.Timeouts(idle: .seconds(300)).frame == .seconds(10))
        #expect(ConnectionStateMachine.Timeouts(idle: .seconds(2)).frame == .seconds(2))
        #expect(ConnectionStateMachine.Timeouts(idle: nil).frame == .seconds(10))
        #expect(ConnectionStateMachine.Timeouts(idle: .seconds(0)).idle == nil)
    }
}
