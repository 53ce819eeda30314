/// Named figures with their units, as `bench core`, `net` and `serve` print them: an aligned table, or one JSON
/// object `{"name":{"value":…,"unit":"…"},…}` followed by a few whole-number fields such as `"runs"`.
struct BenchFigures {
    /// One measured figure.
    struct Row {
        var name: String
        var value: Double
        var unit: String
    }

    private(set) var rows: [Row] = []

    /// Adds a figure after the others.
    mutating func append(_ name: String, _ value: Double, _ unit: String) {
        rows.append(Row(name: name, value: value, unit: unit))
    }

    /// The value of the figure called `name`, if there is one.
    func value(of name: String) -> Double? {
        rows.first { $0.name == name }?.value
    }

    /// One line of JSON: each figure's value as `value` writes it, then the `extra` fields in their order.
    func json(_ value: (Double) -> String, extra: KeyValuePairs<String, Int>) -> String {
        let fields =
            rows.map { "\"\($0.name)\":{\"value\":\(value($0.value)),\"unit\":\"\($0.unit)\"}" }
            + extra.map { "\"\($0.key)\":\($0.value)" }
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// One line per figure: the name padded to `nameWidth`, the value as `value` writes it, two spaces, the unit.
    func table(nameWidth: Int, _ value: (Double) -> String) -> [String] {
        rows.map { $0.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + value($0.value) + "  " + $0.unit }
    }

    /// A value rounded to a whole number.
    static func whole(_ value: Double) -> String { String(Int(value.rounded())) }

    /// A value rounded to a whole number, right-aligned in `width` columns after at least one space.
    static func whole(_ value: Double, width: Int) -> String {
        let text = whole(value)
        return String(repeating: " ", count: max(1, width - text.count)) + text
    }
}
