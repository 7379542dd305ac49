"""The build's hardening (doc/security.md, Makefile HARDEN_CFLAGS and
HARDEN_LDFLAGS), read from the ELF headers of ./ergo as `make` built it:
a position-independent executable, full RELRO (read-only relocations,
bound at start), a non-executable stack, the stack protector, and
glibc's _FORTIFY_SOURCE checks."""

import os
import shutil
import subprocess

from ergotest import Skip

ERGO = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "ergo")


def readelf(*args):
    if shutil.which("readelf") is None:
        raise Skip("readelf (binutils) is not installed")
    p = subprocess.run(["readelf", "-W"] + list(args) + [ERGO],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_ergo_is_a_pie_with_full_relro_and_no_executable_stack():
    assert "DYN (Position-Independent Executable" in readelf("-h")
    dyn = readelf("-d")
    assert "BIND_NOW" in dyn or "Flags: NOW" in dyn, dyn
    assert "PIE" in dyn, dyn
    segs = readelf("-l")
    assert "GNU_RELRO" in segs, segs
    stack = [l for l in segs.splitlines() if "GNU_STACK" in l]
    assert stack and stack[0].split()[-2] == "RW", stack


def test_ergo_has_the_stack_protector_and_fortified_calls():
    syms = readelf("--dyn-syms")
    if "GLIBC_" not in syms:
        raise Skip("not linked with glibc: no _FORTIFY_SOURCE")
    assert "__stack_chk_fail" in syms
    assert "__snprintf_chk" in syms and "__memcpy_chk" in syms
