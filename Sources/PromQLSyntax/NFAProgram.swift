/// A Thompson NFA over Unicode scalars for a ``PatternNode``, run without backtracking: every state is
/// advanced in step, one scalar at a time.
struct NFAProgram: Sendable, Equatable {
    enum Instruction: Sendable, Equatable {
        case scalar(UInt32)
        case anyButNewline
        /// Continue at both.
        case split(Int32, Int32)
        case jump(Int32)
        case match
    }

    let instructions: [Instruction]

    init(_ node: PatternNode) {
        var program: [Instruction] = []
        Self.emit(node, into: &program)
        program.append(.match)
        instructions = program
    }

    private static func emit(_ node: PatternNode, into program: inout [Instruction]) {
        switch node {
        case .scalar(let scalar): program.append(.scalar(scalar.value))
        case .anyButNewline: program.append(.anyButNewline)
        case .sequence(let items): for item in items { emit(item, into: &program) }
        case .alternation(let alternatives):
            var jumps: [Int] = []
            for (index, alternative) in alternatives.enumerated() {
                if index == alternatives.count - 1 {
                    emit(alternative, into: &program)
                } else {
                    let split = program.count
                    program.append(.split(0, 0))
                    emit(alternative, into: &program)
                    jumps.append(program.count)
                    program.append(.jump(0))
                    program[split] = .split(Int32(split + 1), Int32(program.count))
                }
            }
            for jump in jumps { program[jump] = .jump(Int32(program.count)) }
        case .repetition(let inner, let minimum, let unbounded):
            if minimum == 1 {
                // x+: x, then back to x or on.
                let start = program.count
                emit(inner, into: &program)
                program.append(.split(Int32(start), Int32(program.count + 1)))
            } else if unbounded {
                // x*: try x (and loop) or skip.
                let split = program.count
                program.append(.split(0, 0))
                emit(inner, into: &program)
                program.append(.jump(Int32(split)))
                program[split] = .split(Int32(split + 1), Int32(program.count))
            } else {
                // x?
                let split = program.count
                program.append(.split(0, 0))
                emit(inner, into: &program)
                program[split] = .split(Int32(split + 1), Int32(program.count))
            }
        }
    }

    /// Whether the program matches all of `bytes` (valid UTF-8).
    func matches(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let count = instructions.count
        return withUnsafeTemporaryAllocation(of: Int32.self, capacity: 4 * count) { storage in
            // Two state lists, a work list, and the step at which each instruction was last added (a "seen" mark).
            var current = UnsafeMutableBufferPointer(rebasing: storage[0..<count])
            var next = UnsafeMutableBufferPointer(rebasing: storage[count..<(2 * count)])
            let pending = UnsafeMutableBufferPointer(rebasing: storage[(2 * count)..<(3 * count)])
            let marks = UnsafeMutableBufferPointer(rebasing: storage[(3 * count)...])
            marks.initialize(repeating: -1)
            var currentCount = 0
            var nextCount = 0
            var step: Int32 = 0
            add(0, step: step, to: next, count: &nextCount, marks: marks, pending: pending)
            var offset = 0
            while offset < bytes.count {
                swap(&current, &next)
                currentCount = nextCount
                nextCount = 0
                if currentCount == 0 { return false }
                let (scalar, length) = Self.decode(bytes, at: offset)
                offset += length
                step += 1
                for index in 0..<currentCount {
                    let pc = Int(current[index])
                    switch instructions[pc] {
                    case .scalar(let expected):
                        if expected == scalar { add(Int32(pc + 1), step: step, to: next, count: &nextCount, marks: marks, pending: pending) }
                    case .anyButNewline: if scalar != 0x0A { add(Int32(pc + 1), step: step, to: next, count: &nextCount, marks: marks, pending: pending) }
                    case .match, .split, .jump: break
                    }
                }
            }
            for index in 0..<nextCount where instructions[Int(next[index])] == .match { return true }
            return false
        }
    }

    /// Adds `pc` and every instruction reachable from it without reading (splits and jumps followed) to
    /// `list`, each once per step (marked when pushed, so `pending` never holds more than every instruction).
    @inline(__always)
    private func add(
        _ pc: Int32,
        step: Int32,
        to list: UnsafeMutableBufferPointer<Int32>,
        count: inout Int,
        marks: UnsafeMutableBufferPointer<Int32>,
        pending: UnsafeMutableBufferPointer<Int32>
    ) {
        guard marks[Int(pc)] != step else { return }
        marks[Int(pc)] = step
        pending[0] = pc
        var pendingCount = 1
        while pendingCount > 0 {
            pendingCount -= 1
            let pc = pending[pendingCount]
            switch instructions[Int(pc)] {
            case .jump(let target):
                if marks[Int(target)] != step {
                    marks[Int(target)] = step
                    pending[pendingCount] = target
                    pendingCount += 1
                }
            case .split(let first, let second):
                if marks[Int(second)] != step {
                    marks[Int(second)] = step
                    pending[pendingCount] = second
                    pendingCount += 1
                }
                if marks[Int(first)] != step {
                    marks[Int(first)] = step
                    pending[pendingCount] = first
                    pendingCount += 1
                }
            case .scalar, .anyButNewline, .match:
                list[count] = pc
                count += 1
            }
        }
    }

    /// The scalar starting at `offset` and its length in bytes (valid UTF-8).
    @inline(__always)
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) -> (UInt32, Int) {
        let lead = UInt32(bytes[offset])
        if lead < 0x80 { return (lead, 1) }
        if lead < 0xE0 { return ((lead & 0x1F) << 6 | UInt32(bytes[offset + 1] & 0x3F), 2) }
        if lead < 0xF0 { return ((lead & 0x0F) << 12 | UInt32(bytes[offset + 1] & 0x3F) << 6 | UInt32(bytes[offset + 2] & 0x3F), 3) }
        return (
            (lead & 0x07) << 18 | UInt32(bytes[offset + 1] & 0x3F) << 12 | UInt32(bytes[offset + 2] & 0x3F) << 6 | UInt32(bytes[offset + 3] & 0x3F), 4
        )
    }
}
