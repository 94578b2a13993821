// libyaml's event parser, which Yams is built on (its `CYaml` target). Yams keeps it internal, so it is imported
// here as a transitive dependency: no other package can name CYaml as its own.
import CYaml

/// A document whose shape every OTelBench YAML format refuses, found before Yams builds its nodes.
package struct YAMLShapeError: Error, CustomStringConvertible, Sendable {
    /// 1-based, as Yams' marks.
    package let line: Int
    package let column: Int
    /// The field, in `YAMLReader.Field`'s form (`workload.phases[1]`).
    package let path: String
    package let message: String

    package var description: String { "line \(line), column \(column): \(path.isEmpty ? "" : "\(path): ")\(message)" }
}

/// Checks with libyaml's events, before Yams composes a document, that every key is a name (a scalar, or an alias
/// of one).
///
/// This guards Yams, not only the formats: on duplicate keys Yams sorts them with `Node`'s `<`, which for a mapping
/// or a list compares each element with both `<` and `>`, twice the work per level of nesting, 2^depth in all. A
/// 2 KB scenario of nested `? ` keys took 30–130 s (the scenario-yaml fuzz target). No OTelBench format has a key
/// that is not a name. (Nesting itself is bounded by libyaml: past 1,000 levels it is a syntax error.)
package enum YAMLShapeCheck {
    /// Throws the first shape mistake; a syntax error is left to Yams, which reports it with its own words.
    package static func check(_ text: String) throws(YAMLShapeError) {
        var bytes = Array(text.utf8)
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
        try bytes.withUnsafeMutableBufferPointer { (buffer) throws(YAMLShapeError) in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var walk = Walk()
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { return }
                try walk.take(event)
            }
        }
    }

    /// Where the events are: the open collections, and in a mapping whether the next node is a key.
    private struct Walk {
        enum Frame {
            case sequence(index: Int)
            /// `key` is the name of the entry whose value comes next, nil while a key is expected.
            case mapping(key: String?)
        }
        var frames: [Frame] = []
        /// Anchors last set on a mapping or a list: an alias of one of them as a key is a collection as a key.
        var collectionAnchors: Set<String> = []

        mutating func take(_ event: yaml_event_t) throws(YAMLShapeError) {
            switch event.type {
            case YAML_MAPPING_START_EVENT:
                try open(.mapping(key: nil), kind: "a mapping", anchor: event.data.mapping_start.anchor, at: event)
            case YAML_SEQUENCE_START_EVENT:
                try open(.sequence(index: 0), kind: "a list", anchor: event.data.sequence_start.anchor, at: event)
            case YAML_MAPPING_END_EVENT, YAML_SEQUENCE_END_EVENT:
                frames.removeLast()
                finishNode(named: nil)
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                // An anchor set again on a scalar names the scalar from here on.
                if let anchor = scalar.anchor { collectionAnchors.remove(String(cString: anchor)) }
                // Only a key's text is kept (for the path); a value's is not decoded.
                let key = expectsKey ? scalar.value.map { String(decoding: UnsafeBufferPointer(start: $0, count: scalar.length), as: UTF8.self) } ?? "" : nil
                finishNode(named: key)
            case YAML_ALIAS_EVENT:
                let anchor = event.data.alias.anchor.map { String(cString: $0) } ?? ""
                if expectsKey, collectionAnchors.contains(anchor) {
                    throw mistake("a key must be a name, found an alias of a mapping or a list (*\(anchor))", at: event)
                }
                finishNode(named: "*\(anchor)")
            default:
                return
            }
        }

        var expectsKey: Bool {
            if case .mapping(key: nil) = frames.last { return true }
            return false
        }

        mutating func open(_ frame: Frame, kind: String, anchor: UnsafeMutablePointer<yaml_char_t>?, at event: yaml_event_t) throws(YAMLShapeError) {
            if expectsKey { throw mistake("a key must be a name, found \(kind)", at: event) }
            if let anchor { collectionAnchors.insert(String(cString: anchor)) }
            frames.append(frame)
        }

        /// A node ended in the innermost collection: a mapping's key becomes the current entry, a value ends it; a
        /// list moves to its next index.
        mutating func finishNode(named name: String?) {
            switch frames.last {
            case .mapping(key: nil): frames[frames.count - 1] = .mapping(key: name ?? "")
            case .mapping: frames[frames.count - 1] = .mapping(key: nil)
            case .sequence(let index): frames[frames.count - 1] = .sequence(index: index + 1)
            case nil: return
            }
        }

        func mistake(_ message: String, at event: yaml_event_t) -> YAMLShapeError {
            YAMLShapeError(line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1, path: path, message: message)
        }

        /// The path of the node being opened, as `YAMLReader.Field` writes it.
        var path: String {
            var path = ""
            for frame in frames {
                switch frame {
                case .sequence(let index): path += "[\(index)]"
                case .mapping(let key?): path += path.isEmpty ? key : ".\(key)"
                case .mapping(key: nil): return path
                }
            }
            return path
        }
    }
}
