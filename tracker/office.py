"""LibreOffice, headless: finding it, and running it in a process group of its own with a time limit.

The importer converts legacy .doc/.wps files with it and the official documents become PDF with it; each
call passes a private profile directory (``-env:UserInstallation``) so that calls from several workers
never share one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess


def libreoffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def run(command: list[str], *, timeout: float) -> None:
    """Run a command in a process group of its own; on timeout the whole group is killed (soffice starts
    soffice.bin as a child, which killing soffice alone would leave running)."""
    with subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,  # noqa: S603 (no shell)
                          stderr=subprocess.DEVNULL, start_new_session=True) as process:
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
    if returncode:
        raise subprocess.CalledProcessError(returncode, command)
