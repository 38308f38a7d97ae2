#!/usr/bin/python3
"""The truth harness: runs one case — a real Debian program traced by `wstrace record` while
tcpdump captures loopback — in private mount and network namespaces, then compares the trace
with the wire (compare.py) and prints the verdict of each check.

Run as: truth.py WSTRACE SOURCE_DIR WORK_DIR CASE [--engine ENGINE]   (CASE one of cases.py's
        CASES; truth.py --list prints them; with --engine ebpf, EBPF_CASES: --list-ebpf)
   or:  truth.py WSTRACE SOURCE_DIR WORK_DIR CASE --wine WSTRACE_EXE TARGETS_DIR
        (CASE one of cases_wine.py's, listed by --list-wine: Windows programs under Wine,
        traced by WSTRACE_EXE, read by the Linux WSTRACE)
Exit status 0 when the case passes (known gaps included), 1 when it fails, 77 when no
namespace can be made, the engine cannot run here or a program of the case was not built
(skipped, saying why). tests/README.md, "The truth harness", says more.
"""
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases    # noqa: E402  (beside this file)
import cases_wine  # noqa: E402
import compare  # noqa: E402
from harness import HarnessError, Run  # noqa: E402
from wine import SkipCase, Wine  # noqa: E402

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
    if argv[1:] in (["--list"], ["--list-wine"]):
        # a CMake list, for tests/CMakeLists.txt
        print(";".join(cases_wine.CASES if argv[1] == "--list-wine" else cases.CASES))
        return 0
    if argv[1:] == ["--list-ebpf"]:
        print(";".join(cases.EBPF_CASES))
        return 0
    wine = argv[6:] if len(argv) == 8 and argv[5] == "--wine" else None
    engine = argv[6] if len(argv) == 7 and argv[5] == "--engine" else None
    table = cases_wine.CASES if wine else cases.EBPF_CASES if engine == "ebpf" else cases.CASES
    if len(argv) != (8 if wine else 7 if engine else 5) or argv[4] not in table:
        sys.exit(f"usage: truth.py WSTRACE SOURCE_DIR WORK_DIR CASE [--engine ENGINE | --wine "
                 f"WSTRACE_EXE TARGETS_DIR], CASE one of {' '.join(table)}")
    wstrace, src, work, name = os.path.abspath(argv[1]), argv[2], os.path.abspath(argv[3]), argv[4]
    if engine and not os.environ.get("WSTRACE_TRUTH_NETNS"):
        engine_can_run(wstrace, engine)
    enter_private_netns(argv)
    subprocess.run(["rm", "-rf", work], check=True)
    os.makedirs(work)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    run = Run(wstrace, src, work, name, engine)
    try:
        if wine:
            run.wine = Wine(run, os.path.abspath(wine[0]), os.path.abspath(wine[1]))
            run.wine.start()
        spec = table[name](run)
    except SkipCase as e:
        print(f"SKIP: {name}: {e}")
        return SKIPPED
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
    if spec.both_ends:
        args += ["--both-ends"]
    for what, checks in spec.declares.items():
        args += ["--expect-declared", f"{what}={','.join(checks)}"]
    with open(os.path.join(work, "compare.args"), "w") as f:
        f.write(" ".join(args) + "\n")
    return compare.main(args + ["--client-requests", str(spec.requests)])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
