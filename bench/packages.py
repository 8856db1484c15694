"""Installing a benchmark's tools from the distribution's packages when they are missing."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys


def ensure(command: str, package: str) -> str:
    """The path of `command`; installs Debian's `package` with apt-get first if it is missing
    (as root, or with sudo -n), and stops the benchmark with a clear message if it cannot."""
    found = shutil.which(command)
    if found:
        return found
    print(f"{command} is not installed; installing it: apt-get install -y {package}", flush=True)
    apt = shutil.which("apt-get")
    prefix: list[str] = []
    if os.geteuid() != 0:
        if not shutil.which("sudo"):
            sys.exit(f"bench: {command} is missing and this user cannot install packages; install "
                     f"{package} (Debian/Ubuntu: sudo apt-get install {package}) and run again.")
        prefix = ["sudo", "-n"]
    if not apt:
        sys.exit(f"bench: {command} is missing and apt-get is not available; install {package} and run again.")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for attempt in ([[*prefix, apt, "install", "-y", package]],
                    [[*prefix, apt, "update"], [*prefix, apt, "install", "-y", package]]):
        if all(subprocess.run(c, env=env, stdout=subprocess.DEVNULL).returncode == 0 for c in attempt):
            if shutil.which(command):
                return shutil.which(command)  # type: ignore[return-value]
    sys.exit(f"bench: could not install {package} with apt-get (see above); install it and run again.")
