#!/usr/bin/env python3
"""Drives tools/boot-test.sh's two boots of the appliance image over its emulated serial port."""
import argparse, json, os, re, socket, struct, subprocess, sys, time
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


def data_partition(disk):
    """Partition 3 and its ext4 filesystem, in MiB, read from the powered-off disk image."""
    table = json.loads(subprocess.run(["sfdisk", "--json", disk], capture_output=True, text=True, check=True).stdout)
    part = table["partitiontable"]["partitions"][2]
    with open(disk, "rb") as f:
        f.seek(part["start"] * 512 + 1024)
        superblock = f.read(1024)
    blocks = struct.unpack_from("<I", superblock, 4)[0] | (struct.unpack_from("<I", superblock, 0x150)[0] << 32 if struct.unpack_from("<I", superblock, 0x60)[0] & 0x80 else 0)
    return part["size"] * 512 / 1048576, blocks * (1024 << struct.unpack_from("<I", superblock, 24)[0]) / 1048576


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

    def command(self, line, timeout=60):
        """Types one console command; returns what the console printed before its next prompt (colours removed)."""
        self.qemu.sendline(line)
        self.qemu.expect(r"\r?\n", timeout=timeout)  # the console's echo of the line ends here
        self.qemu.expect_exact(PROMPT, timeout=timeout)
        return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", self.qemu.before).replace("\r", "")

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

    def watchdog_enabled(self):
        """The i6300esb's enable bit (PCI config register 0x68, bit 1), which the guest's driver sets when
        systemd opens /dev/watchdog0; read through the emulated 0xcf8/0xcfc ports with the guest paused."""
        slot = re.search(r"Bus\s+(\d+), device\s+(\d+), function (\d+):\s*\n\s*Class \d+: PCI device 8086:25ab", self.monitor("info pci"))
        if slot is None:
            return None
        bus, device, function = (int(x) for x in slot.groups())
        self.monitor("stop")
        saved = re.search(r"= (0x[0-9a-f]+)", self.monitor("i /w 0xcf8"))
        self.monitor(f"o /w 0xcf8 {0x80000000 | bus << 16 | device << 11 | function << 8 | 0x68:#x}")
        value = re.search(r"portb\[0x0cfc\] = (0x[0-9a-f]+)", self.monitor("i /b 0xcfc"))
        if saved:
            self.monitor(f"o /w 0xcf8 {saved.group(1)}")
        self.monitor("cont")
        return None if value is None else bool(int(value.group(1), 16) & 0x02)

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
    print(f"ok   serial console: the technician is logged in at skryba console after "
          f"{time.monotonic() - appliance.started:.0f} s", flush=True)
    accel = appliance.monitor("info kvm")
    print("     accelerator: " + ("KVM" if "kvm support: enabled" in accel else "software emulation (TCG)"), flush=True)
    banner = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", appliance.qemu.before)
    version = re.search(r"Konsola Skryba (\S+), zalogowano jako technician\.", banner)
    check(version is not None and "fallback menu" not in banner,
          "the technician's shell is skryba console (not the fallback menu), logged in as technician", banner[-600:])
    check("Urządzenie nie jest skonfigurowane: brak pliku /etc/skryba/skryba.toml" in banner,
          "the console says at login that the appliance is not configured", banner[-600:])

    # skrybad starts in its own time after the console: wait until status sees it before judging.
    deadline = time.monotonic() + 120
    while True:
        status = appliance.command("status")
        if "skrybad: działa" in status or time.monotonic() > deadline:
            break
        time.sleep(5)
    print("     " + status.strip().replace("\n", "\n     "), flush=True)
    check("Konfiguracja: brak (nie ma pliku /etc/skryba/skryba.toml; wpisz setup)" in status,
          "status: not configured (no /etc/skryba/skryba.toml)", status)
    check("skrybad: działa" in status, "status: skrybad is up (the console reached it)", status)
    check("Linie:\n  brak skonfigurowanych linii" in status, "status: no lines configured", status)
    check(re.search(r"^Alarmy: (brak|aktywne \d+)$", status, re.M) is not None, "status: skrybad's alarms are listed", status)
    fingerprint = re.search(r"^Odcisk klucza urządzenia: ([0-9a-f]{16})$", status, re.M)
    check(fingerprint is not None, "status: the device key fingerprint (the key skrybad made on its first start)", status)
    check(version is not None and f"Wersja: {version.group(1)}" in status, "status: the version, the same as the console's", status)

    log = appliance.command("log")
    print("     " + log.strip().replace("\n", "\n     "), flush=True)
    entries = re.search(r"Ostatnie wpisy dziennika zdarzeń: (\d+) ", log)
    check(entries is not None and int(entries.group(1)) >= 1 and "device-key-created" in log,
          "log: the audit log opens with device-key-created", log)
    clock = appliance.command("time")
    print("     " + clock.strip().replace("\n", "\n     "), flush=True)
    check(re.search(r"Czas lokalny: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d CES?T\nUTC: +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\nZegar: +\S", clock) is not None,
          "time: local time, UTC and the clock's state", clock)
    shell = appliance.command("sh")
    check("Nieznane polecenie „sh”" in shell, "the console offers no system shell", shell)
    armed = appliance.watchdog_enabled()
    check(armed is True, "the hardware watchdog (i6300esb) is armed (its enable bit is set: systemd opened it)", f"enable bit: {armed}")

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
    return (fingerprint.group(1) if fingerprint else None), data_partition(os.path.join(args.work, "disk.img"))


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
    print(f"     data partition (partition, ext4) in MiB: first boot {first_size[0]:.0f}, {first_size[1]:.0f}; "
          f"second boot {second_size[0]:.0f}, {second_size[1]:.0f}", flush=True)
    check(second_size[0] - first_size[0] >= GROW_BY_MIB * 0.9 and second_size[1] - first_size[1] >= GROW_BY_MIB * 0.9,
          f"the data partition and its filesystem grew to the end of a disk {GROW_BY_MIB} MiB larger",
          f"first {first_size}, second {second_size}")
    print(f"boot-test: {'FAILED: ' + '; '.join(failures) if failures else 'all checks passed'} (serial log {args.work}/serial.log)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
