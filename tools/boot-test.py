#!/usr/bin/env python3
"""Drives tools/boot-test.sh's two boots of the appliance image over its emulated serial port."""
import argparse, os, re, socket, subprocess, sys, time
import pexpect

PROMPT = "skryba> "
GROW_BY_MIB = 512
failures = []


def check(condition, what, evidence=""):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)
        if evidence:
            print("     " + evidence.replace("\n", "\n     "), flush=True)


def mebibytes(size):
    """`df -h` sizes (e.g. 243M, 1.2G) in MiB; 0 when absent."""
    if not size:
        return 0
    units = {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024}
    return float(size[:-1]) * units[size[-1]] if size[-1] in units else float(size) / 1048576


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Appliance:
    def __init__(self, args, port, log):
        self.monitor_path = os.path.join(args.work, "monitor.sock")
        if os.path.exists(self.monitor_path):
            os.unlink(self.monitor_path)
        accel = ["-accel", "tcg"] if args.accel == "tcg" else ["-accel", "kvm", "-accel", "tcg"]
        command = ["qemu-system-x86_64", *accel, "-m", "1024", "-smp", "2", "-nographic", "-no-reboot",
                   "-kernel", args.kernel, "-initrd", args.initrd,
                   "-append", "console=ttyS0,115200n8 root=LABEL=skryba-root ro rootwait loglevel=4",
                   "-drive", f"file={os.path.join(args.work, 'disk.img')},format=raw,if=virtio",
                   "-device", "i6300esb", "-action", "watchdog=reset",
                   "-netdev", f"user,id=net0,hostfwd=tcp:127.0.0.1:{port}-:22", "-device", "virtio-net-pci,netdev=net0",
                   "-monitor", f"unix:{self.monitor_path},server,nowait"]
        self.started = time.monotonic()
        self.qemu = pexpect.spawn(command[0], command[1:], encoding="utf-8", codec_errors="replace", timeout=600)
        self.qemu.logfile_read = log

    def menu(self, choice, timeout=60):
        """Sends one menu choice; returns what the console printed before its next prompt."""
        self.qemu.sendline(choice)
        self.qemu.expect_exact(PROMPT, timeout=timeout)
        return self.qemu.before

    def monitor(self, command):
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(self.monitor_path)
            s.settimeout(5)
            s.sendall((command + "\n").encode())
            time.sleep(0.5)  # the monitor answers asynchronously; this only collects its text
            try:
                return s.recv(65536).decode(errors="replace")
            except socket.timeout:
                return ""

    def power_off(self):
        self.monitor("system_powerdown")  # ACPI power button: systemd shuts down cleanly
        self.qemu.expect(pexpect.EOF, timeout=300)


def ssh(args, port, user, *command, known_hosts_mode="accept-new"):
    key = os.path.join(args.work, "client_key")
    return subprocess.run(["ssh", "-i", key, "-p", str(port), "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                           "-o", f"UserKnownHostsFile={os.path.join(args.work, 'known_hosts')}",
                           "-o", f"StrictHostKeyChecking={known_hosts_mode}", "-o", "HostKeyAlias=skryba-boot-test",
                           "-o", "ConnectTimeout=20",
                           f"{user}@127.0.0.1", *command], capture_output=True, text=True, timeout=120)


def wait_for_ssh(args, port, known_hosts_mode):
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        result = ssh(args, port, "export", "id", known_hosts_mode=known_hosts_mode)
        if result.returncode != 255:
            return result
        time.sleep(3)
    return result


def boot(args, number, log):
    print(f"--- boot {number}", flush=True)
    port = free_port()
    appliance = Appliance(args, port, log)
    appliance.qemu.expect_exact(PROMPT, timeout=900)
    print(f"ok   serial console: the technician is logged in and at the console menu after "
          f"{time.monotonic() - appliance.started:.0f} s", flush=True)
    accel = appliance.monitor("info kvm")
    print("     accelerator: " + ("KVM" if "kvm support: enabled" in accel else "software emulation (TCG)"), flush=True)

    # skrybad starts in its own time after the console: wait for its message before judging.
    deadline = time.monotonic() + 300
    while True:
        status = appliance.menu("1")
        if "skrybad: not configured" in status or time.monotonic() > deadline:
            break
        time.sleep(5)
    print(status.strip(), flush=True)
    check("skrybad: active" in status, "skrybad is active", status)
    check("skrybad: not configured: /etc/skryba/skryba.toml does not exist" in status,
          "skrybad says it is not configured (and is not restarting)", status)
    check("NRestarts=0" in status, "skrybad was never restarted", status)
    data = re.search(r"data partition: (\S+), (\S+) used, (\S+) free", status)
    check(data is not None, "the console shows the data partition's size", status)
    check(re.search(r"watchdog: i6300ESB timer active, timeout 14 s \(systemd RuntimeWatchdogUSec=14s\)", status) is not None,
          "the hardware watchdog (i6300esb) is armed by systemd at 14 s", status)

    key = appliance.menu("3")
    print(key.strip(), flush=True)
    fingerprint = re.search(r"fingerprint (\S+)", key)
    check(fingerprint is not None, "skryba device-key shows the device key made by skrybad's first start", key)
    recordings = appliance.menu("2")
    check("id\tline\tdirection" in recordings.replace("\r", ""), "skryba recordings list reads the catalog", recordings)
    audit = appliance.menu("4")
    check("chain intact" in audit, "skryba audit verify: the audit chain is intact", audit)
    shell = appliance.menu("sh")
    check("unknown choice 'sh'" in shell, "the console offers no system shell", shell)

    # The second boot must present the first boot's host key (kept on the data partition).
    result = wait_for_ssh(args, port, "accept-new" if number == 1 else "yes")
    output = result.stdout + result.stderr
    print(f"     ssh export@appliance id -> exit {result.returncode}: {output.strip()[:300]}", flush=True)
    # export-serve refuses any command but its own (docs/disclosure.md): "'id' is not served here; …".
    check("uid=" not in output and "is not served here" in output and result.returncode == 1,
          "SSH to the export account runs only the forced command (skryba export-serve), not the one asked for", output)
    technician = ssh(args, port, "technician", "id", known_hosts_mode="yes")
    check(technician.returncode == 255 and "Permission denied" in technician.stderr,
          "SSH refuses the technician account", technician.stderr)
    password = subprocess.run(["ssh", "-p", str(port), "-o", "BatchMode=yes", "-o", "PubkeyAuthentication=no",
                               "-o", f"UserKnownHostsFile={os.path.join(args.work, 'known_hosts')}",
                               "-o", "StrictHostKeyChecking=yes", "-o", "HostKeyAlias=skryba-boot-test",
                               "export@127.0.0.1", "true"],
                              capture_output=True, text=True, timeout=60)
    check("Permission denied (publickey)" in password.stderr, "SSH offers public-key login only", password.stderr)

    appliance.power_off()
    print(f"ok   clean power-off after {time.monotonic() - appliance.started:.0f} s in all", flush=True)
    return (fingerprint.group(1) if fingerprint else None), (data.group(1) if data else None)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", required=True)
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--initrd", required=True)
    parser.add_argument("--accel", default="auto")
    args = parser.parse_args()
    known_hosts = os.path.join(args.work, "known_hosts")
    if os.path.exists(known_hosts):
        os.unlink(known_hosts)
    with open(os.path.join(args.work, "serial.log"), "w") as log:
        first, first_size = boot(args, 1, log)
        # A larger card: the second boot grows the data partition to the end of the disk
        # (skryba-grow-data) and must find the same device key and host key (StrictHostKeyChecking=yes
        # on the known_hosts of the first) on it.
        disk = os.path.join(args.work, "disk.img")
        os.truncate(disk, os.path.getsize(disk) + GROW_BY_MIB * 1048576)
        second, second_size = boot(args, 2, log)
    check(first is not None and first == second, "the second boot kept the data partition: the same device key",
          f"first {first}, second {second}")
    check(mebibytes(second_size) - mebibytes(first_size) >= GROW_BY_MIB * 0.9,
          f"the data partition grew to the end of a disk {GROW_BY_MIB} MiB larger", f"first {first_size}, second {second_size}")
    print(f"boot-test: {'FAILED: ' + '; '.join(failures) if failures else 'all checks passed'} (serial log {args.work}/serial.log)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
