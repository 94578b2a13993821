import Foundation

/// The fields of `/proc/PID/stat` that resource sampling reads (proc(5)): the parent, the state, the CPU
/// time of the process (every thread) and of its reaped children, in clock ticks, and when it started.
struct ProcStat: Sendable, Hashable {
    var pid: Int32
    var parent: Int32
    /// `R`, `S`, `D`, `Z` (exited, not yet reaped), `X`, ...
    var state: Character
    /// `utime` + `stime`: CPU time in user and kernel mode, all threads.
    var ownTicks: UInt64
    /// `cutime` + `cstime`: CPU time of the children it has waited for (theirs and their own reaped children's).
    var reapedChildrenTicks: UInt64
    /// `starttime`: ticks after boot when it started; tells a process from a later one with the same pid.
    var startTicks: UInt64

    /// Parses one `stat` line. The command name (field 2) is in parentheses and may itself hold spaces and
    /// parentheses, so the fields after it are counted from the last `)`.
    init?(parsing text: Substring) {
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"),
            let pid = Int32(text[..<open].trimmingCharacters(in: .whitespaces))
        else { return nil }
        // Field 3 (state) onwards; field N is at N - 3.
        let fields = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count > 19, let state = fields[0].first, let parent = Int32(fields[1]), let utime = UInt64(fields[11]),
            let stime = UInt64(fields[12]), let cutime = Int64(fields[13]), let cstime = Int64(fields[14]), let start = UInt64(fields[19])
        else { return nil }
        self.pid = pid
        self.parent = parent
        self.state = state
        ownTicks = utime + stime
        reapedChildrenTicks = UInt64(max(0, cutime) + max(0, cstime))
        startTicks = start
    }

    /// Whether it has exited: a zombie waiting to be reaped, or dead.
    var hasExited: Bool { state == "Z" || state == "X" }
}

/// One reading of a process and its descendants from `/proc`: their CPU time so far and their resident memory now.
///
/// CPU is the sum, over the process and every descendant still in `/proc`, of its own time (`utime + stime`)
/// and its reaped children's (`cutime + cstime`). A child that exits and is waited for by its parent moves
/// its whole time into the parent's `cutime`/`cstime`, so the sum stays whole as a wrapper's children come
/// and go: nothing counted twice, nothing lost. What it cannot see is a descendant orphaned (its parent
/// exited first) and reaped by init, or a child nobody waits for: their time leaves the tree when they go,
/// and the sampler counts that interval as zero CPU rather than negative. Memory sums `VmRSS` of the live
/// processes (pages they share, after a fork, count once per process).
struct ProcessTreeReading: Sendable, Hashable {
    /// CPU time of the tree so far, in clock ticks.
    var cpuTicks: UInt64
    /// Resident memory of the live processes, in bytes.
    var rssBytes: UInt64
    /// The processes read: the root and its descendants (zombies included).
    var processes: Int
    /// The root's `starttime`.
    var rootStartTicks: UInt64

    /// Clock ticks per second (`sysconf(_SC_CLK_TCK)`, 100 on Linux).
    static let ticksPerSecond: Double = {
        let ticks = sysconf(Int32(_SC_CLK_TCK))
        return ticks > 0 ? Double(ticks) : 100
    }()

    /// Reads `root` and its descendants, found by each process's parent in `stats` (one scan of `/proc` for
    /// every process sampled at that moment). Nil when `root` is gone or has exited.
    static func of(root: Int32, in stats: [Int32: ProcStat], procRoot: String = "/proc") -> ProcessTreeReading? {
        guard let rootStat = stats[root], !rootStat.hasExited else { return nil }
        var children: [Int32: [Int32]] = [:]
        for stat in stats.values where stat.pid != root { children[stat.parent, default: []].append(stat.pid) }
        var tree: [ProcStat] = []
        var pending = [root]
        var seen: Set<Int32> = []
        while let pid = pending.popLast() {
            guard seen.insert(pid).inserted, let stat = stats[pid] else { continue }
            tree.append(stat)
            pending += children[pid] ?? []
        }
        var reading = ProcessTreeReading(cpuTicks: 0, rssBytes: 0, processes: tree.count, rootStartTicks: rootStat.startTicks)
        for stat in tree {
            reading.cpuTicks += stat.ownTicks + stat.reapedChildrenTicks
            if !stat.hasExited, let status = readSmallFile("\(procRoot)/\(stat.pid)/status") {
                reading.rssBytes += residentBytes(status: status) ?? 0
            }
        }
        return reading
    }

    /// Every process's `stat`, by pid: one scan of `/proc`. Processes that end during the scan are skipped.
    static func scan(procRoot: String = "/proc") -> [Int32: ProcStat] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: procRoot) else { return [:] }
        var stats: [Int32: ProcStat] = [:]
        stats.reserveCapacity(names.count)
        for name in names where name.first?.isNumber == true {
            guard let text = readSmallFile("\(procRoot)/\(name)/stat"), let stat = ProcStat(parsing: Substring(text)) else { continue }
            stats[stat.pid] = stat
        }
        return stats
    }

    /// `VmRSS` of a `/proc/PID/status` text, in bytes; nil when absent (a zombie, a kernel thread).
    static func residentBytes(status: String) -> UInt64? {
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            // `VmRSS:\t   2136 kB`: always in kB (KiB).
            let words = line.dropFirst("VmRSS:".count).split { $0 == " " || $0 == "\t" }
            guard let kibibytes = words.first.flatMap({ UInt64($0) }) else { return nil }
            return kibibytes * 1024
        }
        return nil
    }

    /// A `/proc` file, read whole: their size is 0 to `stat(2)`, so read until the end.
    static func readSmallFile(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            bytes += buffer[0..<count]
        }
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }
}
