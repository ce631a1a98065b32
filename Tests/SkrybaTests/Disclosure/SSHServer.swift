import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real OpenSSH server for one test: its own throwaway host key, sshd_config and authorized_keys
/// in a temporary directory, on a free loopback port, for the account `SSHServer.account` (created
/// once if absent: a real system account, password locked with '*' so only keys log in).
final class SSHServer {
    static let account = "skryba-export-test"
    static let accountReady: Result<Void, ToolFailure> = {
        if (try? Tool.run("id", ["-u", account]).status) == 0 { return .success(()) }
        guard let made = try? Tool.run("useradd", ["--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/bin/sh", account]),
              made.status == 0 || made.output.contains("already exists") else { return .failure(ToolFailure("useradd \(account) failed")) }
        guard (try? Tool.run("usermod", ["-p", "*", account]).status) == 0 else { return .failure(ToolFailure("usermod -p '*' \(account) failed")) }
        return .success(())
    }()

    let directory: String
    let port: Int
    private var daemon: Spawned?

    /// `authorizedKeys`: the file's lines, as an administrator writes them.
    init(directory: String, authorizedKeys: [String]) throws {
        try Self.accountReady.get()
        // sshd's privilege-separation directory, which systemd's tmpfiles make on a booted system.
        mkdir("/run/sshd", 0o755)
        self.directory = directory
        port = try Self.freePort()
        let hostKey = "\(directory)/ssh_host_ed25519_key"
        guard try Tool.run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]).status == 0 else { throw ToolFailure("ssh-keygen (host key) failed") }
        try (authorizedKeys.joined(separator: "\n") + "\n").write(toFile: "\(directory)/authorized_keys", atomically: true, encoding: .utf8)
        chmod("\(directory)/authorized_keys", 0o644)
        try """
            Port \(port)
            ListenAddress 127.0.0.1
            HostKey \(hostKey)
            PidFile none
            AuthorizedKeysFile \(directory)/authorized_keys
            StrictModes no
            UsePAM no
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PubkeyAuthentication yes
            AllowUsers \(Self.account)
            ExposeAuthInfo yes
            PermitUserEnvironment no
            LogLevel INFO
            """.write(toFile: "\(directory)/sshd_config", atomically: true, encoding: .utf8)
        // -D: stay in the foreground (the test owns the process); -e: log to stderr, where "Server listening" says it is ready.
        // Spawned directly, not with Foundation's Process: sshd closes every inherited descriptor, which
        // Process takes for the child's exit and then waits for it, stalling every other Process.
        let spawned = try Spawned(["/usr/sbin/sshd", "-D", "-e", "-f", "\(directory)/sshd_config"], stdout: "/dev/null")
        daemon = spawned
        var log = ""
        while !log.contains("Server listening on 127.0.0.1 port \(port)") {
            guard let piece = spawned.readError() else { throw ToolFailure("sshd stopped before listening: \(log)") }
            log += piece
        }
    }

    deinit {
        guard let daemon else { return }
        kill(daemon.pid, SIGTERM)
        _ = daemon.wait()
        // Kept open until now: sshd logs each connection to it, and a closed pipe would kill it.
        daemon.closeError()
    }

    static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) } }
        guard bound == 0 else { throw ToolFailure("cannot bind a loopback port") }
        withUnsafeMutablePointer(to: &address) { _ = $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A client key pair from ssh-keygen: (private key path, public key line, SHA256 fingerprint).
    static func clientKey(_ directory: String, name: String) throws -> (path: String, publicKey: String, fingerprint: String) {
        let path = "\(directory)/\(name)"
        guard try Tool.run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path]).status == 0 else { throw ToolFailure("ssh-keygen failed") }
        let publicKey = try String(contentsOfFile: path + ".pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let listed = try Tool.run("ssh-keygen", ["-l", "-E", "sha256", "-f", path + ".pub"]).output
        let fingerprint = String(listed.split(separator: " ")[1])
        return (path, publicKey, fingerprint)
    }

    struct Session {
        var status: Int32
        var stdout: [UInt8]
        var stderr: String
    }

    /// `ssh -i KEY export@127.0.0.1 COMMAND`, the real client, stdout to a file (a bundle can be large).
    func ssh(key: String, _ command: String, output: String) throws -> Session {
        let arguments = ["/usr/bin/ssh", "-F", "none", "-i", key, "-p", String(port), "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                         "-o", "StrictHostKeyChecking=accept-new", "-o", "UserKnownHostsFile=\(directory)/known_hosts",
                         "-o", "LogLevel=ERROR", "\(Self.account)@127.0.0.1"] + (command.isEmpty ? [] : [command])
        // ssh too closes inherited descriptors at start (see init).
        let spawned = try Spawned(arguments, stdout: output)
        var errText = ""
        while let piece = spawned.readError() { errText += piece }
        spawned.closeError()
        let status = spawned.wait()
        return Session(status: status, stdout: [UInt8](try Data(contentsOf: URL(fileURLWithPath: output))), stderr: errText)
    }
}

/// A child started with posix_spawn: stdin /dev/null, stdout to a file, stderr through a pipe.
struct Spawned {
    let pid: pid_t
    private let errorFD: Int32

    init(_ arguments: [String], stdout: String) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw ToolFailure("pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let started = posix_spawn(&pid, arguments[0], &actions, nil, argv, environ)
        close(fds[1])
        guard started == 0 else {
            close(fds[0])
            throw ToolFailure("cannot start \(arguments[0]): \(String(cString: strerror(started)))")
        }
        self.pid = pid
        errorFD = fds[0]
    }

    /// The next piece of the child's stderr, nil at its end.
    func readError() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { read(errorFD, $0.baseAddress, $0.count) }
        return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : nil
    }

    func closeError() { close(errorFD) }

    func wait() -> Int32 {
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return (status >> 8) & 0xff
    }
}
