import CoreMetrics
import Prometheus

/// A swift-metrics backend writing into a Prometheus registry, with the help text and buckets of
/// ``MetricsCatalog``.
///
/// swift-prometheus's own factory registers every metric without help text; a family registered with help and
/// then without would stop the process (the registry requires one help text per name). This factory asks the
/// registry for each metric with its catalog help, so the mail server, the store and DevP2P can all report through
/// swift-metrics into one registry. A name the catalog does not list is exported without help, with
/// client_golang's default buckets.
public struct CatalogMetricsFactory: MetricsFactory {
    /// Where the metrics are kept; `emitToString()` renders them.
    public let registry: PrometheusCollectorRegistry
    let families: [String: MetricsCatalog.Family]

    /// A factory over `registry` that knows `families`.
    public init(registry: PrometheusCollectorRegistry, families: [MetricsCatalog.Family]) {
        self.registry = registry
        self.families = Dictionary(families.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The registry's name for `name`, with its catalog help text (the whole name as the metric name: our names
    /// carry their unit already).
    func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: families[name]?.help ?? "")
    }

    func buckets(_ name: String) -> [Double] {
        if case .histogram(let b)? = families[name]?.kind { return b }
        return MetricsCatalog.defaultBuckets
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: descriptor(label), labels: dimensions) }
        return registry.makeValueHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets(label))
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let bounds = buckets(label).map { Duration.nanoseconds(Int64($0 * 1e9)) }
        return registry.makeDurationHistogram(descriptor: descriptor(label), labels: dimensions, buckets: bounds)
    }

    public func destroyCounter(_ handler: any CounterHandler) {
        if let c = handler as? Prometheus.Counter { registry.unregisterCounter(c) }
    }

    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let c = handler as? Prometheus.Counter { registry.unregisterCounter(c) }
    }

    public func destroyMeter(_ handler: any MeterHandler) {
        if let g = handler as? Prometheus.Gauge { registry.unregisterGauge(g) }
    }

    public func destroyRecorder(_ handler: any RecorderHandler) {
        if let g = handler as? Prometheus.Gauge { registry.unregisterGauge(g) }
        if let h = handler as? ValueHistogram { registry.unregisterValueHistogram(h) }
    }

    public func destroyTimer(_ handler: any TimerHandler) {
        if let h = handler as? DurationHistogram { registry.unregisterDurationHistogram(h) }
    }
}
