"""The image's boot test: boots the kiosk image in QEMU and checks it is a kiosk.

Usage: boot-test.py IMAGE REFERENCE.png [--work DIR] [--update-to VERSION REPO --failing-update VERSION REPO]
       boot-test.py IMAGE --power-cuts N [--work DIR]  (the power-cut loop, image/power-cut-test.sh)
       boot-test.py IMAGE REFERENCE.png --first-screen [--work DIR]  (only the boot to the kiosk's screen)
       boot-test.py IMAGE --login-prompt [--work DIR]  (the yardstick: a stock Debian image)

- QEMU boots a copy of IMAGE through UEFI firmware (OVMF) with a virtio GPU (portrait,
  1080x1920), no display window and no network; the image itself is never written.
  KVM is used when it really runs a guest here (a kernel booted on it must print within 15 s),
  software emulation otherwise.
- The screen is taken through QEMU's monitor (QMP `screendump`) every half second until it matches
  REFERENCE (the app's own headless render of the attract screen): boot-to-UI seconds.
- Escape keys go in through the monitor (Ctrl+Alt+F1..F6, Ctrl+Alt+Del, Alt+SysRq+B, Alt+F4,
  Ctrl+Alt+Backspace): after each the screen must still be the kiosk's, and the machine must
  still be running (no reboot, no virtual terminal, no shell).
- Through the test-only channel (a virtio-serial port, served only because this boot's kernel
  command line says kiosk.test_channel; see image/rootfs/usr/lib/kiosk/test-channel): the
  app's memory (PSS) on its first screen, then one order paid on the simulated terminal in
  training mode, found in the database.
- Updates as a USB stick brings them (--update-to, --failing-update): a stick (a FAT image
  labelled KIOSKUPDATE) carrying a signed repository with release N+1 is plugged in through
  the monitor; the agent installs it and the app runs it; the stick is pulled and another one
  plugged, with a release that fails its health gate: the app is back on N+1 by itself.
- Power cuts (--power-cuts N): the disk is opened so that only what the guest flushed
  survives (cache=directsync); the channel runs a loop of payments and QEMU is killed at a
  random moment, N times; after each boot the books are checked (kioskctl db check: integrity,
  every approval in the simulated terminal's ledger one paid order, no stock hold left).

Prints each step and the figures; exits 1 on the first failure. Python's standard library
only (QMP is JSON on a Unix socket; PNG and PPM are read here).
"""

import argparse
import json
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

WIDTH, HEIGHT = 1080, 1920
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
# A screen matches when this share of its pixels is within TOLERANCE of the reference's.
MATCH = 0.97
TOLERANCE = 24


def read_png(path):
    """An 8-bit RGB or RGBA, non-interlaced PNG as (width, height, RGB bytes)."""
    with open(path, "rb") as file:
        data = file.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    position, idat, header = 8, b"", None
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, f"{path}: unsupported PNG"
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        line = raw[y * (stride + 1) : (y + 1) * (stride + 1)]
        kind, row = line[0], bytearray(line[1:])
        for x in range(stride):
            left = row[x - channels] if x >= channels else 0
            up = previous[x]
            corner = previous[x - channels] if x >= channels else 0
            if kind == 1:
                row[x] = (row[x] + left) & 0xFF
            elif kind == 2:
                row[x] = (row[x] + up) & 0xFF
            elif kind == 3:
                row[x] = (row[x] + ((left + up) >> 1)) & 0xFF
            elif kind == 4:
                guess = left + up - corner
                distances = (abs(guess - left), abs(guess - up), abs(guess - corner))
                predictor = (left, up, corner)[distances.index(min(distances))]
                row[x] = (row[x] + predictor) & 0xFF
        rows.append(bytes(row) if channels == 3 else bytes(b for i, b in enumerate(row) if i % 4 != 3))
        previous = row
    return width, height, b"".join(rows)


def read_ppm(path):
    """A binary PPM (P6, as QEMU's screendump writes) as (width, height, RGB bytes)."""
    with open(path, "rb") as file:
        data = file.read()
    fields, position = [], 0
    while len(fields) < 4:
        while data[position : position + 1].isspace():
            position += 1
        end = position
        while not data[end : end + 1].isspace():
            end += 1
        fields.append(data[position:end])
        position = end
    assert fields[0] == b"P6", f"{path} is not a binary PPM"
    width, height = int(fields[1]), int(fields[2])
    return width, height, data[position + 1 : position + 1 + width * height * 3]


def likeness(screen, reference):
    """The share of pixels within TOLERANCE, of one in every 37 (a stride that walks across the
    columns: some 56,000 pixels, few enough to compare twice a second while QEMU boots)."""
    if screen[:2] != reference[:2]:
        return 0.0
    a, b = screen[2], reference[2]
    close = total = 0
    for pixel in range(0, len(a) // 3, 37):
        i = pixel * 3
        total += 1
        if abs(a[i] - b[i]) <= TOLERANCE and abs(a[i + 1] - b[i + 1]) <= TOLERANCE and abs(a[i + 2] - b[i + 2]) <= TOLERANCE:
            close += 1
    return close / total


def retry(attempt, patience, pause):
    """Calls attempt() until it raises no OSError (a timeout is one), for `patience` seconds."""
    deadline = time.time() + patience
    while True:
        try:
            return attempt()
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(pause)


class Channel:
    """The kiosk's test channel: one request a line, answers ending with a line "."."""

    def __init__(self, path, patience=120):
        def attempt():
            self.socket = connect_unix(path)
            try:
                self.socket.settimeout(10)
                self.file = self.socket.makefile("rw")
                # Answered once the kiosk serves the channel. The answers to requests an earlier
                # connection gave up on may come first: skip to this one's.
                greeting = f"hello {os.getpid()}-{time.time_ns()}"
                self.file.write(greeting + "\n")
                self.file.flush()
                while (line := self.file.readline()).strip() != greeting:
                    if line == "":
                        raise OSError("the channel closed")
                self.file.readline()  # the answer's "."
                self.socket.settimeout(120)  # a request may take a while under emulation
            except OSError:
                self.socket.close()
                raise

        retry(attempt, patience, pause=2)

    def ask(self, request):
        self.file.write(request + "\n")
        self.file.flush()
        lines = []
        while True:
            line = self.file.readline()
            if line == "":
                raise OSError("the channel closed")
            if line.strip() == ".":
                return "\n".join(lines)
            lines.append(line.rstrip("\n"))


def connect_unix(path):
    """A new connection to the Unix socket at `path` (a socket whose connect failed is spent)."""
    connection = socket.socket(socket.AF_UNIX)
    try:
        connection.connect(path)
    except OSError:
        connection.close()
        raise
    return connection


class Monitor:
    """QEMU's machine protocol (QMP) on a Unix socket."""

    def __init__(self, path, patience=30):
        self.socket = retry(lambda: connect_unix(path), patience, pause=0.2)
        self.file = self.socket.makefile("rw")
        self.file.readline()  # the greeting
        self.execute("qmp_capabilities")

    def execute(self, command, **arguments):
        self.file.write(json.dumps({"execute": command, "arguments": arguments}) + "\n")
        self.file.flush()
        while True:
            reply = json.loads(self.file.readline())
            if "return" in reply:
                return reply["return"]
            if "error" in reply:
                raise RuntimeError(f"{command}: {reply['error']}")

    def keys(self, *names):
        self.execute("send-key", keys=[{"type": "qcode", "data": name} for name in names])


def kvm_works(kernel):
    """Whether KVM really runs a guest here: /dev/kvm may open and still run nothing."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    probe = subprocess.Popen(
        ["qemu-system-x86_64", "-enable-kvm", "-cpu", "host", "-m", "256", "-display", "none", "-nic", "none",
         "-kernel", kernel, "-append", "console=ttyS0 panic=-1", "-no-reboot", "-serial", "stdio", "-monitor", "none"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    os.set_blocking(probe.stdout.fileno(), False)
    seen, deadline = b"", time.time() + 15
    while time.time() < deadline and b"Linux version" not in seen:
        time.sleep(0.5)
        seen += probe.stdout.read() or b""
    probe.kill()
    probe.wait()
    return b"Linux version" in seen


def prepare(args, work, test_channel):
    """The boot file's kernel, the accelerator, and a copy of the image to boot (the image
    itself is never written) whose boot file's command line also says kiosk.test_channel."""
    boot_file = os.path.join(work, "BOOTX64.EFI")
    kernel = os.path.join(work, "vmlinuz")
    subprocess.run(["mcopy", "-o", "-i", f"{args.image}@@1M", "::/EFI/BOOT/BOOTX64.EFI", boot_file], check=True)
    subprocess.run(["objcopy", "-O", "binary", "--only-section=.linux", boot_file, kernel], check=True)
    accelerator = ["-enable-kvm", "-cpu", "host"] if kvm_works(kernel) else ["-accel", "tcg"]
    print(f"boot test: {'KVM' if accelerator[0] == '-enable-kvm' else 'software emulation (KVM does not run a guest here)'}")
    disk = os.path.join(work, "disk.img")
    subprocess.run(["cp", "--sparse=always", args.image, disk], check=True)
    if test_channel:
        for section in ("osrel", "cmdline", "initrd"):
            subprocess.run(["objcopy", "-O", "binary", f"--only-section=.{section}", boot_file,
                            os.path.join(work, section)], check=True)
        with open(os.path.join(work, "cmdline"), "rb") as file:
            cmdline = file.read().rstrip(b"\0\n") + f" kiosk.test_channel {args.kernel_args}\n".encode()
        with open(os.path.join(work, "cmdline"), "wb") as file:
            file.write(cmdline)
        test_boot_file = os.path.join(work, "BOOTX64.test.EFI")
        boot_file_script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "boot-file.sh")
        parts = [os.path.join(work, "osrel"), os.path.join(work, "cmdline"), kernel, os.path.join(work, "initrd")]
        subprocess.run([boot_file_script, *parts, test_boot_file], check=True)
        subprocess.run(["mcopy", "-o", "-i", f"{disk}@@1M", test_boot_file, "::/EFI/BOOT/BOOTX64.EFI"], check=True)
    variables = os.path.join(work, "OVMF_VARS.fd")
    shutil.copy(OVMF_VARS, variables)
    return accelerator, disk, variables


def start_qemu(work, accelerator, disk, variables, cache="writeback"):
    """QEMU on `disk`, its monitor at work/qmp.sock, the test channel at work/test.sock."""
    # The serial log too: a login prompt left by the last boot must not be read as this one's.
    for old_file in ("qmp.sock", "test.sock", "serial.log"):
        if os.path.exists(os.path.join(work, old_file)):
            os.remove(os.path.join(work, old_file))
    command = ["qemu-system-x86_64", *accelerator, "-machine", "q35", "-m", "1024", "-smp", "2",
               "-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
               "-drive", f"if=pflash,format=raw,file={variables}",
               "-drive", f"file={disk},if=virtio,format=raw,cache={cache}",
               "-device", "qemu-xhci,id=usb",
               "-device", "virtio-serial-pci",
               "-chardev", f"socket,id=test,path={os.path.join(work, 'test.sock')},server=on,wait=off",
               "-device", "virtserialport,chardev=test,name=kiosk.test",
               "-device", f"virtio-gpu-pci,xres={WIDTH},yres={HEIGHT}",
               "-vga", "none", "-display", "none", "-nic", "none", "-no-reboot",
               "-serial", f"file:{os.path.join(work, 'serial.log')}",
               "-qmp", f"unix:{os.path.join(work, 'qmp.sock')},server=on,wait=off"]
    return subprocess.Popen(command, stderr=open(os.path.join(work, "qemu.log"), "wb"))


def fail(message):
    sys.exit(f"boot test: {message}")


class Kiosk:
    """A booted kiosk: its screen through the monitor, compared with the reference."""

    def __init__(self, qemu, work, reference):
        self.qemu, self.work, self.reference = qemu, work, reference
        self.monitor = Monitor(os.path.join(work, "qmp.sock"))
        self.shot = os.path.join(work, "screen.ppm")

    def likeness(self):
        self.monitor.execute("screendump", filename=self.shot)
        return likeness(read_ppm(self.shot), self.reference)

    def wait_for_screen(self, patience, started):
        """Waits until the screen is the kiosk's first one; its best likeness."""
        best = 0.0
        while best < MATCH:
            if self.qemu.poll() is not None:
                fail(f"QEMU stopped ({self.qemu.returncode}) before the kiosk's screen")
            if time.time() - started > patience:
                fail(f"no kiosk screen after {patience} s (best likeness {best:.2f}; {self.shot})")
            try:
                best = max(best, self.likeness())
            except (RuntimeError, AssertionError):
                pass  # no display yet
            if best < MATCH:
                time.sleep(0.5)
        return best

    def still_the_kiosk(self, after):
        alike = self.likeness()
        if alike < MATCH:
            shutil.copy(self.shot, os.path.join(self.work, f"not-the-kiosk-after-{after}.ppm"))
            fail(f"after {after} the screen is no longer the kiosk's (likeness {alike:.3f})")
        return alike


def escape_keys(kiosk):
    escapes = [("ctrl", "alt", f"f{n}") for n in range(1, 7)] + [
        ("ctrl", "alt", "delete"), ("alt", "sysrq", "b"), ("alt", "f4"), ("ctrl", "alt", "backspace")]
    for keys in escapes:
        kiosk.monitor.keys(*keys)
        time.sleep(3)
        status = kiosk.monitor.execute("query-status")["status"]
        name = "+".join(keys)
        if kiosk.qemu.poll() is not None or status != "running":
            fail(f"{name} stopped or restarted the machine ({status})")
        print(f"boot test: {name}: still the kiosk (likeness {kiosk.still_the_kiosk(name):.3f})")


def releases(channel):
    """The release the app runs, and the releases' state (committed, failed...)."""
    running, state = channel.ask("release").split("\n", 1)
    return running, json.loads(state)


def make_stick(path, repository):
    """A USB stick's image: FAT, labelled KIOSKUPDATE, the repository at its root."""
    if os.path.exists(path):
        os.remove(path)
    size = sum(os.path.getsize(os.path.join(folder, name))
               for folder, _, names in os.walk(repository) for name in names)
    subprocess.run(["mkfs.vfat", "-C", "-n", "KIOSKUPDATE", path, str(size // 1024 + 16 * 1024)],
                   check=True, stdout=subprocess.DEVNULL)
    entries = [os.path.join(repository, name) for name in os.listdir(repository)]
    subprocess.run(["mcopy", "-s", "-i", path, *entries, "::/"], check=True)


def plug_stick(monitor, name, path):
    monitor.execute("blockdev-add", **{"driver": "raw", "node-name": name, "read-only": True,
                                      "file": {"driver": "file", "filename": path, "read-only": True}})
    monitor.execute("device_add", driver="usb-storage", id=name, bus="usb.0", drive=name, removable=True)


def wait_for_releases(channel, patience, settled):
    """Asks for the releases every few seconds until settled(running, state) holds."""
    deadline = time.time() + patience
    while True:
        running, state = releases(channel)
        if settled(running, state):
            return running, state
        if time.time() > deadline:
            print("boot test: the agent's last lines:\n" + channel.ask("agent-log"))
            fail(f"after {patience} s the app runs {running}, the releases' state is {state}")
        time.sleep(5)


def update_test(kiosk, channel, work, update_to, failing_update):
    """Release N+1 from one stick, then a release failing its gate from another."""
    (next_version, next_repo), (broken_version, broken_repo) = update_to, failing_update
    stick = os.path.join(work, "stick-1.img")
    make_stick(stick, next_repo)
    started = time.time()
    plug_stick(kiosk.monitor, "stick1", stick)
    wait_for_releases(channel, 600, lambda running, state: running == next_version and state["committed"] == next_version)
    print(f"boot test: a stick with release {next_version}: installed, the app runs it after {time.time() - started:.0f} s")
    screen_back(kiosk, f"release {next_version}")

    kiosk.monitor.execute("device_del", id="stick1")
    stick = os.path.join(work, "stick-2.img")
    make_stick(stick, broken_repo)
    time.sleep(5)  # the stick pulled out, as a person would
    started = time.time()
    plug_stick(kiosk.monitor, "stick2", stick)
    running, state = wait_for_releases(
        channel, 900, lambda running, state: broken_version in state.get("failed", {}) and running == next_version)
    if state["committed"] != next_version or state.get("trying"):
        fail(f"after the failed release the releases' state is {state}")
    print(f"boot test: a stick with release {broken_version}, failing its health gate: back on {running} "
          f"by itself after {time.time() - started:.0f} s ({state['failed'][broken_version]})")
    screen_back(kiosk, f"back on {running}")
    with open(os.path.join(work, "agent.log"), "w") as log:
        log.write(channel.ask("agent-log"))


def screen_back(kiosk, what):
    """The kiosk's screen, once the app a switch restarted has drawn it (seconds, not more)."""
    started = time.time()
    alike = kiosk.wait_for_screen(60, started)
    print(f"boot test: {what}: the kiosk's screen after {time.time() - started:.0f} s (likeness {alike:.3f})")


def power_cuts(args, work):
    """Boots, checks the books, starts a payment loop, kills QEMU at a random moment; N times."""
    accelerator, disk, variables = prepare(args, work, test_channel=True)
    seed = args.seed if args.seed is not None else random.randrange(1 << 32)
    print(f"power cuts: {args.power_cuts}, seed {seed} (--seed to replay the same moments)", flush=True)
    rng = random.Random(seed)
    kills = 0
    last = None
    for cut in range(args.power_cuts + 1):
        started = time.time()
        qemu = start_qemu(work, accelerator, disk, variables, cache="directsync")
        try:
            channel = Channel(os.path.join(work, "test.sock"), patience=300)
            answer = channel.ask("check")
            try:
                check = json.loads(answer)
            except ValueError:
                fail(f"after cut {cut} the books could not be checked: {answer}")
            if not check["sound"]:
                fail(f"after cut {cut} the books are not sound: {check}")
            if last and check["approved_payments"] < last["approved_payments"]:
                fail(f"after cut {cut} approved payments went back: {last} -> {check}")
            last = check
            if cut == args.power_cuts:
                break
            if cut == 0:
                channel.ask("restock")
            channel.ask("pay-loop")
            time.sleep(rng.uniform(1, args.max_pay_seconds))
        finally:
            qemu.kill()
            qemu.wait()
        kills += 1
        print(f"power cut {cut + 1}/{args.power_cuts} after {time.time() - started:.0f} s: at the boot before it "
              f"{check['approved_payments']} approved payments ({check['ledger_approvals']} in the terminal's "
              f"ledger), {check['settled_orders']} paid orders, {check['not_charged']} not charged, books sound",
              flush=True)
    print(f"power cuts: {kills} kills; after the last boot: {last['approved_payments']} approved payments, "
          f"{last['ledger_approvals']} in the terminal's ledger, {last['settled_orders']} paid orders, "
          f"{last['not_charged']} not charged, {last['unresolved']} unresolved, {last['orphan_holds']} stock holds "
          f"left, {last['journal_entries']} journal entries verified; integrity ok")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("image")
    parser.add_argument("reference", nargs="?")
    parser.add_argument("--login-prompt", action="store_true",
                        help="only time the boot to a login prompt on the serial console")
    parser.add_argument("--first-screen", action="store_true",
                        help="only time the boot to the kiosk's first screen, as a customer's boot (no test channel)")
    parser.add_argument("--work", default=None)
    parser.add_argument("--patience", type=int, default=600, help="seconds to wait for the first screen")
    parser.add_argument("--kernel-args", default="",
                        help="more kernel arguments for this boot (e.g. console=ttyS0 to read it in serial.log)")
    parser.add_argument("--update-to", nargs=2, metavar=("VERSION", "REPO"),
                        help="a repository with this release, to install from a stick")
    parser.add_argument("--failing-update", nargs=2, metavar=("VERSION", "REPO"),
                        help="then a repository with this release, which fails its health gate")
    parser.add_argument("--power-cuts", type=int, default=0, help="run the power-cut loop this many times instead")
    parser.add_argument("--max-pay-seconds", type=float, default=12,
                        help="the longest a payment loop runs before the power is cut")
    parser.add_argument("--seed", type=int, default=None, help="the power cuts' moments (default: a random seed)")
    args = parser.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="kiosk-boot-")
    os.makedirs(work, exist_ok=True)
    if args.power_cuts:
        power_cuts(args, work)
        return
    if args.login_prompt:
        accelerator, disk, variables = prepare(args, work, test_channel=False)
        started = time.time()
        qemu = start_qemu(work, accelerator, disk, variables)
        try:
            serial = os.path.join(work, "serial.log")
            while not (os.path.exists(serial) and b"login:" in open(serial, "rb").read()):
                if qemu.poll() is not None or time.time() - started > args.patience:
                    fail("no login prompt")
                time.sleep(0.5)
            print(f"boot test: a login prompt after {time.time() - started:.1f} s")
        finally:
            qemu.kill()
            qemu.wait()
        return

    reference = read_png(args.reference)
    assert reference[:2] == (WIDTH, HEIGHT), f"the reference is {reference[:2]}, not {WIDTH}x{HEIGHT}"
    accelerator, disk, variables = prepare(args, work, test_channel=not args.first_screen)
    started = time.time()
    qemu = start_qemu(work, accelerator, disk, variables)
    try:
        kiosk = Kiosk(qemu, work, reference)
        best = kiosk.wait_for_screen(args.patience, started)
        boot_to_ui = time.time() - started
        shutil.copy(kiosk.shot, os.path.join(work, "first-screen.ppm"))
        print(f"boot test: the kiosk's first screen after {boot_to_ui:.1f} s (likeness {best:.3f} to the app's own render)")
        if args.first_screen:
            return
        escape_keys(kiosk)

        channel = Channel(os.path.join(work, "test.sock"))
        running, _ = releases(channel)
        total, *mappings = channel.ask("pss").split("\n")
        pss_kib, pid = total.split()
        print(f"boot test: app release {running}, PSS on its first screen {int(pss_kib) / 1024:.1f} MiB (pid {pid}); "
              "by mapping:")
        for mapping in mappings:
            kib, name = mapping.split(" ", 1)
            print(f"  {int(kib) / 1024:5.1f} MiB  {name}")
        threads = ", ".join(" ".join(line.split()[::-1]) for line in channel.ask("threads").splitlines())
        print(f"boot test: the app's threads (name count): {threads}")
        print("boot test: where the boot's time went (in the guest's clock):")
        for line in channel.ask("boot").splitlines():
            print(f"  {line}")
        before = int(channel.ask("orders"))
        placed = channel.ask("order")
        after = int(channel.ask("orders"))
        if "paid" not in placed or after != before + 1:
            fail(f"the order through the channel: {placed!r}, orders {before} -> {after}")
        print(f"boot test: {placed.strip()}; orders in the database {before} -> {after}")
        if args.update_to and args.failing_update:
            update_test(kiosk, channel, work, args.update_to, args.failing_update)
        print(f"boot test: passed; boot-to-UI {boot_to_ui:.1f} s, the whole boot {time.time() - started:.0f} s")
    finally:
        qemu.kill()
        qemu.wait()


if __name__ == "__main__":
    main()
