#!/usr/bin/python3
"""The truth harness: runs one case — a real Debian program traced by `wstrace record` while
tcpdump captures loopback — in private mount and network namespaces, then compares the trace
with the wire (compare.py) and prints the verdict of each check.

Run as: truth.py WSTRACE SOURCE_DIR WORK_DIR CASE [--engine ENGINE]   (CASE one of cases.py's
        CASES; truth.py --list prints them; with --engine ebpf, EBPF_CASES: --list-ebpf)
Exit status 0 when the case passes (known gaps included), 1 when it fails, 77 when no
namespace can be made or the engine cannot run here (skipped, saying why). tests/README.md,
"The truth harness", says more.
"""
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases    # noqa: E402  (beside this file)
import compare  # noqa: E402
from harness import HarnessError, Run  # noqa: E402

SKIPPED = 77


def enter_private_netns(argv):
    """Runs this program again in private mount and network namespaces (only loopback exists
    there, so every port is free and the capture holds the case's traffic only)."""
    if os.environ.get("WSTRACE_TRUTH_NETNS"):
        return
    env = dict(os.environ, WSTRACE_TRUTH_NETNS="1")
    if subprocess.run(["unshare", "--mount", "--net", "true"], capture_output=True).returncode:
        print("SKIP: cannot make private mount and network namespaces (needs root)")
        sys.exit(SKIPPED)
    os.execvpe("unshare", ["unshare", "--mount", "--net", sys.executable, *argv], env)


def engine_can_run(wstrace, engine):
    """Exits 77 (skipped, with wstrace's reason) when `record --engine ENGINE` cannot run here
    (the kernel engine without privileges or BTF, or a build without it)."""
    p = subprocess.run([wstrace, "record", "-q", "--engine", engine, "-o", "/dev/null", "--",
                        "/bin/true"], capture_output=True, timeout=60)
    if p.returncode != 0:
        print(f"SKIP: the {engine} engine cannot run here: "
              f"{p.stderr.decode(errors='replace').strip()}")
        sys.exit(SKIPPED)


def main(argv):
    if argv[1:] == ["--list"]:
        print(";".join(cases.CASES))  # a CMake list, for tests/CMakeLists.txt
        return 0
    if argv[1:] == ["--list-ebpf"]:
        print(";".join(cases.EBPF_CASES))
        return 0
    engine = None
    if len(argv) == 7 and argv[5] == "--engine":
        engine, argv = argv[6], argv[:5]
    table = cases.EBPF_CASES if engine == "ebpf" else cases.CASES
    if len(argv) != 5 or argv[4] not in table:
        sys.exit(f"usage: truth.py WSTRACE SOURCE_DIR WORK_DIR CASE [--engine ENGINE], CASE one "
                 f"of {' '.join(table)}")
    wstrace, src, work, name = os.path.abspath(argv[1]), argv[2], os.path.abspath(argv[3]), argv[4]
    if engine and not os.environ.get("WSTRACE_TRUTH_NETNS"):
        engine_can_run(wstrace, engine)
    enter_private_netns(argv + (["--engine", engine] if engine else []))
    subprocess.run(["rm", "-rf", work], check=True)
    os.makedirs(work)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    run = Run(wstrace, src, work, name, engine)
    try:
        spec = table[name](run)
    except HarnessError as e:
        print(f"{name}: FAIL (harness): {e}")
        return 1
    finally:
        run.close()
    # known_gaps.txt names the kernel engine's runs CASE@ebpf
    label = f"{name}@{engine}" if engine else name
    args = ["--wstrace", wstrace, "--case", label, "--capture", run.capture_path, "--trace",
            run.trace]
    for port in spec.http_ports:
        args += ["--http-port", str(port)]
    for what, checks in spec.declares.items():
        args += ["--expect-declared", f"{what}={','.join(checks)}"]
    with open(os.path.join(work, "compare.args"), "w") as f:
        f.write(" ".join(args) + "\n")
    return compare.main(args + ["--client-requests", str(spec.requests)])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
