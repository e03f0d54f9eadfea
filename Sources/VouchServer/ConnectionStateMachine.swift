import NIOCore
import VouchProtocol

/// Everything one client connection decides, as plain values: which
/// requests go to the dispatcher, how many are in flight, when the frame and
/// idle deadlines fall, when reading pauses, and when and why the connection
/// closes.  Events go in, actions come out; `ConnectionHandler` carries the
/// actions out and does no deciding of its own (the model: postgres-nio's
/// `ConnectionStateMachine`).  No I/O, no clock: times are passed in.
///
/// - **idle**: no request for `idleTimeout` while nothing is in flight and
///   no frame is partly received (a connection waiting for a slow login is
///   not idle).  Pings are keepalives, not requests: a connection that only
///   pings still ends at `idleTimeout` and gives its slot back;
/// - **slow frame**: a frame whose first bytes arrived more than
///   `frameTimeout` ago is still incomplete (a slowloris client);
/// - **condemned**: after a bad length prefix or a request with the reserved
///   id 0, the connection answers, reads nothing more, and closes once the
///   answer is written, or after `condemnedGrace` if the peer does not read it;
/// - **back-pressure**: nothing is read while the channel is not writable
///   (a peer that does not read its answers), nor while reading is paused
///   after requests were refused for load.
struct ConnectionStateMachine {
    struct Timeouts: Equatable {
        /// nil: never closed for idleness.
        var idle: TimeAmount?
        var frame: TimeAmount

        /// `idle` nil or zero: no idle timeout; the frame timeout is the idle
        /// timeout, at most 10 seconds (a 64 KiB frame over a local socket takes microseconds).
        init(idle: TimeAmount?) {
            let cap = TimeAmount.seconds(10)
            self.idle = idle.flatMap { $0.nanoseconds > 0 ? $0 : nil }
            self.frame = self.idle.map { min($0, cap) } ?? cap
        }

        init(idle: TimeAmount?, frame: TimeAmount) {
            self.idle = idle.flatMap { $0.nanoseconds > 0 ? $0 : nil }
            self.frame = frame
        }
    }

    /// Why the connection closes.
    enum CloseReason: Equatable {
        /// No request for the idle timeout.
        case idle
        /// A frame was not completed within the frame timeout.
        case slowFrame
        /// A bad length prefix or the reserved request id: answered, then closed.
        case condemned
        /// The peer did not read the answer to its bad frame within the grace period.
        case condemnedAnswerNotRead
    }

    /// What to do with a decoded request.
    enum RequestAction: Equatable {
        /// Hand it to the dispatcher.
        case dispatch
        /// Answer with this failure without dispatching (`loadRefusal`: counts toward the read back-off).
        case refuse(Status, String, loadRefusal: Bool)
        /// Ignore it: the connection is closing.
        case drop
    }

    /// What to do when a timer fires.
    enum TimerAction: Equatable {
        case close(CloseReason)
        case arm(NIODeadline)
        case none
    }

    /// What to do at the end of a read burst.
    struct ReadCompleteAction: Equatable {
        /// Write and flush the answers gathered in this burst (one write).
        var flush: Bool
        /// Pause reading until then (a peer re-sending refused requests at once).
        var pauseReadingUntil: NIODeadline?
        /// Move the deadline timer earlier to this (a frame left incomplete).
        var armTimer: NIODeadline?
    }

    /// Longest read back-off after load refusals.
    static let maxPause = TimeAmount.milliseconds(128)
    /// How long a condemned connection waits for its answer to be read.
    static let condemnedGrace = TimeAmount.seconds(2)

    let timeouts: Timeouts
    let maxRequestsInFlight: Int

    private enum State: Equatable {
        case open
        /// Answered a bad frame; closes once that answer is written.
        case condemned
        case closed
    }

    private var state = State.open
    private(set) var inFlight: Set<UInt32> = []
    /// When the incomplete frame at the end of the input began arriving.
    private(set) var frameStartedAt: NIODeadline?
    /// The last request (not a ping) or answer from a worker.
    private var lastActivity: NIODeadline
    /// The deadline the timer is armed for.
    private var timerDeadline: NIODeadline?
    /// Requests of the current read burst refused for load, and bursts in a row with some.
    private var refusedInBurst = 0
    private var refusingBursts = 0
    private var pausedUntil: NIODeadline?
    private var readPending = false

    init(timeouts: Timeouts, maxRequestsInFlight: Int, now: NIODeadline) {
        self.timeouts = timeouts
        self.maxRequestsInFlight = maxRequestsInFlight
        self.lastActivity = now
    }

    var isOpen: Bool { state == .open }

    // MARK: - Events

    /// The connection started: the first deadline to arm.
    mutating func channelActive(now: NIODeadline) -> NIODeadline {
        lastActivity = now
        let deadline = nextCheck(now: now)
        timerDeadline = deadline
        return deadline
    }

    /// A whole frame arrived (whether or not it decoded).  A ping does not
    /// postpone idleness.
    mutating func frameReceived(keepalive: Bool, now: NIODeadline) {
        frameStartedAt = nil
        if !keepalive { lastActivity = now }
    }

    /// A request decoded: whether it may go to the dispatcher.
    mutating func requestDecoded(id: UInt32) -> RequestAction {
        guard state == .open else { return .drop }
        if inFlight.contains(id) { return .refuse(.badRequest, "duplicate request id \(id)", loadRefusal: false) }
        if inFlight.count >= maxRequestsInFlight {
            refusedInBurst += 1
            return .refuse(
                .limitExceeded, "too many requests in flight (max \(maxRequestsInFlight))", loadRefusal: true)
        }
        return .dispatch
    }

    /// The dispatcher took the request to a worker: it is in flight.
    mutating func requestDeferred(id: UInt32) {
        inFlight.insert(id)
    }

    /// The dispatcher answered at once; `refusedForLoad`: with busy or rate limited.
    mutating func requestAnswered(refusedForLoad: Bool) {
        if refusedForLoad { refusedInBurst += 1 }
    }

    /// What to do with the answer a worker finished.
    enum FinishedAction: Equatable {
        /// Write and flush it.
        case write
        /// Drop it: the connection is closing (the request no longer counts as in flight).
        case discard
        /// Drop it: no such request is in flight (already answered, or the connection closed).
        case unknownRequest
    }

    /// A worker finished request `id`.
    mutating func workerFinished(id: UInt32, now: NIODeadline) -> FinishedAction {
        guard inFlight.remove(id) != nil else { return .unknownRequest }
        if inFlight.isEmpty { lastActivity = now }
        return state == .open ? .write : .discard
    }

    /// A bad length prefix (empty or too large), or a request with the
    /// reserved id: answer, read nothing more, close once written.  Returns
    /// the deadline by which the answer must have been read.
    mutating func condemn(now: NIODeadline) -> NIODeadline? {
        guard state == .open else { return nil }
        state = .condemned
        frameStartedAt = nil
        let deadline = now + Self.condemnedGrace
        timerDeadline = deadline
        return deadline
    }

    /// The read burst ended; `incompleteFrame`: bytes of a frame not yet whole are buffered.
    mutating func readComplete(incompleteFrame: Bool, now: NIODeadline) -> ReadCompleteAction {
        var action = ReadCompleteAction(flush: true, pauseReadingUntil: nil, armTimer: nil)
        guard state == .open else { return action }
        if incompleteFrame {
            if frameStartedAt == nil { frameStartedAt = now }
            let deadline = frameStartedAt! + timeouts.frame
            if timerDeadline.map({ $0 > deadline }) ?? true {
                timerDeadline = deadline
                action.armTimer = deadline
            }
        } else {
            frameStartedAt = nil
        }
        defer { refusedInBurst = 0 }
        guard refusedInBurst > 0 else {
            refusingBursts = 0
            return action
        }
        // A peer whose requests were refused for load and that sends more at
        // once would keep the event loop answering at full speed, at the
        // expense of every other connection: reading pauses 1 ms, doubling
        // with each such burst in a row up to `maxPause`.
        refusingBursts = min(refusingBursts + 1, 8)
        let until = now + min(Self.maxPause, .milliseconds(1 << (refusingBursts - 1)))
        pausedUntil = until
        action.pauseReadingUntil = until
        return action
    }

    /// The pause that was to end at `deadline` ended: whether to read now.
    mutating func pauseEnded(at deadline: NIODeadline, isWritable: Bool) -> Bool {
        guard pausedUntil == deadline else { return false }
        pausedUntil = nil
        return takePendingRead(isWritable: isWritable)
    }

    /// The channel asks to read: whether to pass the read on now (else it is
    /// remembered until the channel is writable and no pause is on).
    mutating func readRequested(isWritable: Bool) -> Bool {
        guard state == .open else { return false }
        if isWritable, pausedUntil == nil { return true }
        readPending = true
        return false
    }

    /// The channel's writability changed: whether to read now.
    mutating func writabilityChanged(isWritable: Bool) -> Bool {
        takePendingRead(isWritable: isWritable)
    }

    private mutating func takePendingRead(isWritable: Bool) -> Bool {
        guard state == .open, readPending, isWritable, pausedUntil == nil else { return false }
        readPending = false
        return true
    }

    /// The deadline timer fired.
    mutating func timerFired(now: NIODeadline) -> TimerAction {
        timerDeadline = nil
        switch state {
        case .closed: return .none
        case .condemned:
            state = .closed
            return .close(.condemnedAnswerNotRead)
        case .open: break
        }
        if let started = frameStartedAt, now >= started + timeouts.frame {
            state = .closed
            return .close(.slowFrame)
        }
        if let idle = timeouts.idle, frameStartedAt == nil, inFlight.isEmpty, now >= lastActivity + idle {
            state = .closed
            return .close(.idle)
        }
        let deadline = nextCheck(now: now)
        timerDeadline = deadline
        return .arm(deadline)
    }

    /// The channel went away: how many requests were still in flight (their
    /// answers will be dropped).
    mutating func channelInactive() -> Int {
        state = .closed
        timerDeadline = nil
        pausedUntil = nil
        defer { inFlight.removeAll() }
        return inFlight.count
    }

    /// When the timer should next look: the frame deadline if a frame is
    /// incomplete, else the idle deadline if nothing is in flight, else a
    /// re-check one idle period (or frame timeout) later.
    private func nextCheck(now: NIODeadline) -> NIODeadline {
        if let started = frameStartedAt { return started + timeouts.frame }
        if let idle = timeouts.idle {
            return inFlight.isEmpty ? lastActivity + idle : now + idle
        }
        return now + timeouts.frame
    }
}
