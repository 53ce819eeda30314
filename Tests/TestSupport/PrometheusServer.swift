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
        // posix_spawn and waitpid, not Foundation's Process: with a long-lived child of Process running, Foundation's
        // reaper thread blocked in wait4 on it and never reaped the test's next short-lived child, whose
        // waitUntilExit then never returned. Through bash, which first closes every descriptor this process left
        // open (a server that inherited a socket accepted here would keep it open for its peer; see
        // scripts/pg-cluster).
        let script = #"for fd in /proc/self/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null; done; exec "$0" "$@""#
        let argv = [
            "/bin/bash", "-c", script, Self.path.path,
            "--config.file=\(config.path)", "--storage.tsdb.path=\(directory.appendingPathComponent("data").path)",
            "--web.listen-address=127.0.0.1:\(port)",
        ]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, "/bin/bash", &actions, nil, cArgs, environ)
        guard rc == 0 else { throw VectorError("cannot start prometheus: error \(rc)") }
        pid = child
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
        _ = try? await blocking {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        try? FileManager.default.removeItem(at: directory)
    }
}
