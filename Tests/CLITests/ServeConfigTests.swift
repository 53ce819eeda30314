import EthCrypto
import Foundation
import TestSupport
import Testing

/// `serve --config FILE`: status-go's keys, flags over the file, and a usage error for every bad value.
@Suite("serve --config")
struct ServeConfigTests {
    static func write(_ json: String, in dir: URL) throws -> String {
        let path = dir.appendingPathComponent("config-\(UUID().uuidString).json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The request's exit status with `password`.
    static func request(_ server: ServerProcess, password: String) async throws -> Int32 {
        try await CLI.run(["request", "--peer", server.enode, "--password", password, "--all", "--from", "0", "--timeout", "10"]).status
    }

    @Test("every key is read; the file's node key, password and metrics address take effect; flags and the environment win")
    func everyKeyTakesEffect() async throws {
        let dir = try CLI.temporaryDirectory("wa-config")
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = PrivateKey.generate()
        let metricsPort = LoopbackHTTP.freePort()
        let listenPort = LoopbackHTTP.freePort()
        let config = try Self.write(
            """
            {
              "ListenAddr": "127.0.0.1:\(listenPort)",
              "NodeKey": "0x\(key.bytes.hex)",
              "MailServerPassword": "from-file",
              "MailServerRateLimit": 0,
              "MailServerDataRetention": 30,
              "MinimumPoW": 0,
              "MaxMessageSize": 2097152,
              "MaxPeers": 7,
              "Metrics": "127.0.0.1:\(metricsPort)",
              "Peers": [],
              "ShutdownTimeout": 5,
              "LogLevel": "notice"
            }
            """,
            in: dir
        )
        // ServerProcess gives --listen 127.0.0.1:0: the flag wins over ListenAddr.
        let server = try await ServerProcess(archive: dir.appendingPathComponent("a"), arguments: ["--config", config])
        #expect(server.enode.hasPrefix("enode://\(key.publicKey.bytes.hex)@"), "\(server.enode)")
        #expect(!server.enode.hasSuffix(":\(listenPort)"), "the --listen flag lost to ListenAddr: \(server.enode)")
        #expect(try await LoopbackHTTP.get(port: metricsPort, path: "/metrics").contains("200 OK"))
        #expect(try await Self.request(server, password: "from-file") == 0)
        #expect(try await Self.request(server, password: "other") != 0)
        #expect(await server.stop() == 0)

        // WHISPER_ARCHIVE_PASSWORD wins over the file, and --password over both.
        let fromEnvironment = try await ServerProcess(
            archive: dir.appendingPathComponent("a"),
            arguments: ["--config", config, "--metrics", "127.0.0.1:0"],
            environment: ["WHISPER_ARCHIVE_PASSWORD": "from-env"]
        )
        #expect(try await Self.request(fromEnvironment, password: "from-env") == 0)
        #expect(try await Self.request(fromEnvironment, password: "from-file") != 0)
        #expect(await fromEnvironment.stop() == 0)
        let fromFlag = try await ServerProcess(
            archive: dir.appendingPathComponent("a"),
            arguments: ["--config", config, "--metrics", "127.0.0.1:0", "--password", "from-flag"],
            environment: ["WHISPER_ARCHIVE_PASSWORD": "from-env"]
        )
        #expect(try await Self.request(fromFlag, password: "from-flag") == 0)
        #expect(await fromFlag.stop() == 0)
    }

    @Test("DataDir names the archive when --archive is not given; with neither, a usage error")
    func dataDirNamesTheArchive() async throws {
        let dir = try CLI.temporaryDirectory("wa-config")
        defer { try? FileManager.default.removeItem(at: dir) }
        let archive = dir.appendingPathComponent("from-config").path
        let config = try Self.write(#"{"DataDir": "\#(archive)", "ListenAddr": "127.0.0.1:0", "LogLevel": "warning"}"#, in: dir)
        let none = try await CLI.run(["serve", "--config", try Self.write("{}", in: dir)])
        #expect(none.status == 2 && none.stderr.contains("DataDir or PostgresURI"), "\(none.stderr)")
        let server = try await ServerProcess(rawArguments: ["serve", "--config", config])
        #expect(FileManager.default.fileExists(atPath: archive + "/node.key"))
        #expect(await server.stop() == 0)
        // At warning, serve's start and stop lines are not shown.
        #expect(!server.stderrAfterExit().contains("info:"), "\(server.stderrAfterExit())")
    }

    @Test("--advertise (or AdvertiseAddr) is the address the enode carries; the listening port unless it names one")
    func advertisedAddress() async throws {
        let dir = try CLI.temporaryDirectory("wa-config")
        defer { try? FileManager.default.removeItem(at: dir) }
        let withPort = try await ServerProcess(archive: dir.appendingPathComponent("a"), arguments: ["--advertise", "203.0.113.7:30303"])
        #expect(withPort.enode.hasSuffix("@203.0.113.7:30303"), "\(withPort.enode)")
        #expect(await withPort.stop() == 0)
        let config = try Self.write(#"{"AdvertiseAddr": "198.51.100.1"}"#, in: dir)
        let fromFile = try await ServerProcess(archive: dir.appendingPathComponent("a"), arguments: ["--config", config])
        let port = fromFile.enode.split(separator: ":").last.map(String.init) ?? ""
        #expect(fromFile.enode.contains("@198.51.100.1:") && Int(port) != nil && port != "0" && port != "30303", "\(fromFile.enode)")
        #expect(await fromFile.stop() == 0)
        let bad = try await CLI.run(["serve", "--archive", dir.appendingPathComponent("b").path, "--advertise", "example.org:1"])
        #expect(bad.status == 2 && bad.stderr.contains("--advertise must be an IP address"), "\(bad.stderr)")
        // A bad --enode-file path: a usage error before anything is created or announced.
        let noDir = try await CLI.run(["serve", "--archive", dir.appendingPathComponent("c").path, "--enode-file", "/nonexistent/dir/e.txt"])
        #expect(noDir.status == 2 && noDir.stderr.contains("--enode-file: no such directory: /nonexistent/dir"), "\(noDir.stderr)")
        #expect(noDir.stdout.isEmpty && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("c").path))
    }

    @Test(
        "an unknown key, a wrong type or an out-of-range value: one line naming the file and the key, exit 2, nothing created",
        arguments: [
            (#"{"ListenAdr": ":30303"}"#, "unknown key ListenAdr"),
            (#"{"MinimumPoW": "high"}"#, "MinimumPoW must be a number ≥ 0, got \"high\""),
            (#"{"MinimumPoW": -1}"#, "MinimumPoW must be a number ≥ 0, got -1"),
            (#"{"MaxMessageSize": 12}"#, "MaxMessageSize must be a whole number of bytes in 1024…10485760, got 12"),
            (#"{"MailServerDataRetention": 1.5}"#, "MailServerDataRetention must be a whole number of days"),
            (#"{"MaxPeers": true}"#, "MaxPeers must be a whole number ≥ 1, got true"),
            (#"{"ListenAddr": "nowhere"}"#, "ListenAddr must be HOST:PORT or :PORT"),
            (#"{"AdvertiseAddr": "example.org"}"#, "AdvertiseAddr must be an IP address, optionally with :PORT"),
            (#"{"NodeKey": "abc"}"#, "NodeKey must be a secp256k1 private key in hex"),
            (#"{"Peers": ["enode://nope"]}"#, "Peers must be a list of enode URLs"),
            (#"{"ShutdownTimeout": 0}"#, "ShutdownTimeout must be a number of seconds > 0"),
            (#"{"LogLevel": "loud"}"#, "LogLevel must be one of trace, debug, info, notice, warning, error, got \"loud\""),
            (#"{"DataDir": 7}"#, "DataDir must be a string, got 7"),
            (#"{"SyncWindow": 1e12}"#, "SyncWindow must be a number of seconds in 1…4294967295"),
            (#"{"SyncInterval": 0}"#, "SyncInterval must be a number of seconds in 1…31536000, got 0"),
            (#"{"PostgresURI": "mysql://x"}"#, "PostgresURI must be a postgres:// URL"),
            (#"{"DataDir": "/tmp/x", "PostgresURI": "postgres://u@h/d"}"#, "give DataDir or PostgresURI, not both"),
            ("[1, 2]", "not a JSON object of settings"),
        ]
    )
    func badValuesAreUsageErrors(json: String, message: String) async throws {
        let dir = try CLI.temporaryDirectory("wa-config")
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try Self.write(json, in: dir)
        let archive = dir.appendingPathComponent("a").path
        let r = try await CLI.run(["serve", "--archive", archive, "--config", config])
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("config \(config): \(message)"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: archive), "serve created the archive before refusing its config")
    }

    @Test("Samples/whisper-archive.json names every key but NodeKey(File) and serve starts with it (the node key made in the archive)")
    func sampleConfigIsValid() async throws {
        let sample = Vectors.repositoryRoot.appendingPathComponent("Samples/whisper-archive.json").path
        let text = try String(contentsOfFile: sample, encoding: .utf8)
        for key in [
            "ListenAddr", "MailServerPassword", "MailServerRateLimit", "MailServerDataRetention", "MinimumPoW", "MaxMessageSize",
            "MaxPeers", "Metrics", "Peers", "ShutdownTimeout", "LogLevel",
        ] {
            #expect(text.contains("\"\(key)\""), "\(key)")
        }
        let dir = try CLI.temporaryDirectory("wa-config")
        defer { try? FileManager.default.removeItem(at: dir) }
        let server = try await ServerProcess(archive: dir.appendingPathComponent("a"), arguments: ["--config", sample, "--metrics", "127.0.0.1:0"])
        #expect(server.enode.hasPrefix("enode://"))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("a/node.key").path))
        #expect(try await Self.request(server, password: "status-offline-inbox") == 0)
        #expect(await server.stop() == 0)
    }
}

/// The systemd unit in Samples/.
@Suite("Samples/whisper-archive.service", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze")))
struct SystemdUnitTests {
    @Test("systemd-analyze verify accepts the unit without a warning; it is hardened and Type=notify")
    func unitVerifies() async throws {
        let sample = Vectors.repositoryRoot.appendingPathComponent("Samples/whisper-archive.service")
        let text = try String(contentsOf: sample, encoding: .utf8)
        for line in [
            "Type=notify", "DynamicUser=yes", "StateDirectory=whisper-archive", "ProtectSystem=strict", "NoNewPrivileges=yes", "WatchdogSec=",
        ] {
            #expect(text.contains("\n" + line), "\(line)")
        }
        // verify wants the ExecStart binary to exist: the built one stands in for /usr/local/bin's.
        let dir = try CLI.temporaryDirectory("wa-unit")
        defer { try? FileManager.default.removeItem(at: dir) }
        let unit = dir.appendingPathComponent("whisper-archive.service")
        try text.replacingOccurrences(of: "/usr/local/bin/whisper-archive", with: CLI.binary.path).write(to: unit, atomically: true, encoding: .utf8)
        let r = try await CLI.tool(URL(fileURLWithPath: "/usr/bin/systemd-analyze"), ["verify", "--man=no", unit.path])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        // It reports bad settings as warnings and still exits 0: any line about the unit is a finding.
        let findings = (r.stdout + r.stderr).split(separator: "\n").filter { $0.contains("whisper-archive.service") }
        #expect(findings.isEmpty, "\(findings)")
    }
}
