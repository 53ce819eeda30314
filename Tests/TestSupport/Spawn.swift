import Foundation

/// Child processes started with `posix_spawn` and reaped with `waitpid`, not Foundation's `Process`: with a
/// long-lived child of `Process` running, Foundation's reaper thread was seen blocked in `wait4` on it, so a second,
/// short-lived child was never reaped and its `waitUntilExit` never returned.
public enum Spawn {
    /// Starts `argv` with standard input from /dev/null and standard output and error to the file `output`.
    public static func start(_ argv: [String], output: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { for a in cArgs { free(a) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, nil, cArgs, environ)
        guard rc == 0 else { throw VectorError("cannot run \(argv[0]): error \(rc)") }
        return pid
    }

    /// Waits for `pid` (blocking the calling thread) and returns its exit status, or 128 + the signal that ended it.
    public static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }
}
