import Foundation

/// A real Prometheus server (Debian's `prometheus` package) on loopback, scraping one target every second, with
/// its data in a temporary directory; stopped and removed by ``stop()``.
public final class PrometheusServer: @unchecked Sendable {
    /// The binary.
    public static let path = URL(fileURLWithPath: "/usr/bin/prometheus")

    let pid: pid_t
    let lock = NSLock()
    var stopped = false
    let directory: URL
    /// Its HTTP API port.
    public let port: Int

    /// Starts Prometheus scraping `http://127.0.0.1:targetPort/metrics`.
    public init(scraping targetPort: Int) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.path.path) else {
            throw VectorError("no \(Self.path.path): install Debian's prometheus package (scripts/install-deps does)")
        }
        directory = try CLI.temporaryDirectory("wa-prometheus")
        port = LoopbackHTTP.freePort()
        let config = directory.appendingPathComponent("prometheus.yml")
        try """
        global:
          scrape_interval: 1s
          scrape_timeout: 1s
        scrape_configs:
          - job_name: whisper-archive
            static_configs:
              - targets: ["127.0.0.1:\(targetPort)"]

        """.write(to: config, atomically: true, encoding: .utf8)
        let log = directory.appendingPathComponent("prometheus.log").path
        // Started with Spawn (see there why not Foundation's Process), through bash, which first closes every descriptor this process left
        // open (a server that inherited a socket accepted here would keep it open for its peer; see
        // scripts/pg-cluster).
        let script = #"for fd in /proc/self/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null; done; exec "$0" "$@""#
        let argv = [
            "/bin/bash", "-c", script, Self.path.path,
            "--config.file=\(config.path)", "--storage.tsdb.path=\(directory.appendingPathComponent("data").path)",
            "--web.listen-address=127.0.0.1:\(port)",
        ]
        pid = try Spawn.start(argv, output: log)
    }

    /// The value of an instant query's first sample, or nil when the query has no result yet.
    public func query(_ promql: String) async throws -> Double? {
        let encoded = promql.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? promql
        let response = try await LoopbackHTTP.get(port: port, path: "/api/v1/query?query=\(encoded)")
        guard let body = response.components(separatedBy: "\r\n\r\n").last,
            let json = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
            let data = json["data"] as? [String: Any], let result = data["result"] as? [[String: Any]],
            let sample = result.first?["value"] as? [Any], sample.count == 2, let text = sample[1] as? String
        else { return nil }
        return Double(text)
    }

    /// Polls `promql` (every 200 ms, up to `timeout` seconds) until `condition` holds for its value; the last value.
    public func wait(for promql: String, timeout: Double = 30, until condition: (Double) -> Bool) async throws -> Double? {
        let deadline = Date().addingTimeInterval(timeout)
        var last: Double?
        while Date() < deadline {
            last = try await query(promql)
            if let last, condition(last) { return last }
            try await Task.sleep(for: .milliseconds(200))
        }
        return last
    }

    /// Its log so far (for a failing test's message).
    public var log: String {
        (try? String(contentsOf: directory.appendingPathComponent("prometheus.log"), encoding: .utf8)) ?? ""
    }

    /// A test that ended before ``stop()`` (a failed `#require`) leaves no server running.
    deinit {
        if !lock.withLock({ stopped }) { kill(pid, SIGKILL) }
    }

    /// Stops the server (SIGTERM, then waits for it on a thread of its own) and removes its directory.
    public func stop() async {
        let pid = self.pid
        lock.withLock { stopped = true }
        kill(pid, SIGTERM)
        _ = try? await blocking { Spawn.wait(pid) }
        try? FileManager.default.removeItem(at: directory)
    }
}
