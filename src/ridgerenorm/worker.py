"""A warm worker for a local Snakemake run: the numerical libraries imported once, a fork per job.

A pipeline job is a new `ridgerenorm` process, and most of a short job's CPU time is importing numpy, scipy,
xarray, netCDF4 and matplotlib (about 0.9 of the 1.15 CPU-seconds of a figure job).  A local run starts one
worker (the Snakefile's onstart, `start`), which imports those libraries and listens on a Unix socket in a
private folder.  A job's `ridgerenorm` command, seeing RIDGERENORM_WORKER, sends its arguments, working folder,
environment and standard streams there (`delegate`); the worker forks, and the child runs the command exactly
as the process would have (cli.main), writing to the job's own stdout, stderr and log.  The job's process waits,
passes on any signal it gets (Ctrl-C, Snakemake stopping a job), and exits with the child's status, or dies by
the child's signal.

What keeps a served job the job it would have been:
- The package's own modules are not imported ahead: the child imports them from disk, so an edit made during a
  run is the code that runs, and a result's record of the modules it loaded reads as in a fresh process.
  Only what every `ridgerenorm` process loads first is loaded in the worker (the package's __init__, cli,
  commands and this module); once one of their files changes, every later job runs in its own process.
- The job's environment must equal the worker's but for the variables Snakemake and the shell set per job
  (thread counts, TMPDIR, PWD, ...), or the job runs in its own process: variables read when a library
  loads (OPENBLAS_CORETYPE picks the BLAS kernel) cannot be changed in a loaded process.  The job's thread
  count (OPENBLAS_NUM_THREADS, ...) is applied through threadpoolctl, as a fresh process would read it.
- The child takes the job's working folder, sys.argv, sys.path, umask and environment, fresh standard streams
  on the job's descriptors, default signal handlers and reseeded global random states (nothing here draws
  from them: every draw has its own SeedSequence).
- Anything that fails on the way (no worker, a refused job, a socket error before the fork) makes the job run
  in its own process, as without a worker; the only cost is speed.

Nothing a job sends is executed but the `ridgerenorm` command line itself, parsed by cli.main as it would be:
the socket is in a folder only its owner can open, and the worker serves only its own user (SO_PEERCRED).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import struct
import sys
import time
from pathlib import Path

__all__ = ["ENV", "delegate", "start", "stop", "serve", "main"]

ENV = "RIDGERENORM_WORKER"
# Variables a job may hold apart from the worker's: set per job by Snakemake (thread counts, temporary folder),
# by the shell (PWD, OLDPWD, SHLVL, _), or this module's own.  Thread counts are applied in the child.
PER_JOB = frozenset({"OMP_NUM_THREADS", "GOTO_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                     "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "BLIS_NUM_THREADS", "TMPDIR", "TMP",
                     "TEMP", "TEMPDIR", "PWD", "OLDPWD", "SHLVL", "_", ENV})
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")
# the libraries a job spends its start-up on (import order: the dependencies first)
PRELOAD = ("numpy", "scipy.linalg", "scipy.special", "scipy.optimize", "scipy.integrate", "scipy.interpolate",
           "scipy.stats", "pandas", "xarray", "netCDF4", "jsonschema", "yaml", "threadpoolctl", "matplotlib",
           "matplotlib.pyplot", "matplotlib.backends.backend_agg", "matplotlib.backends.backend_pdf")
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)
_HEADER = struct.Struct("!I")
LOG_NAME = "worker.log"


# ------------------------------------------------------------------------------------------ the job's side


def _recv_line(sock) -> dict | None:
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = sock.recv(4096)
        if not chunk:
            return None
        buf += chunk
    return json.loads(buf)


def delegate() -> int | None:
    """Run this process's `ridgerenorm` command in the worker named by RIDGERENORM_WORKER and return its exit
    status (or die by its signal); None when there is no worker or it does not take the job (run it here)."""
    path = os.environ.get(ENV)
    if not path or path == "0":  # RIDGERENORM_WORKER=0: no worker
        return None
    try:
        for fd in (0, 1, 2):
            os.fstat(fd)
    except OSError:
        return None  # a closed standard stream: nothing to hand over
    umask = os.umask(0)
    os.umask(umask)
    request = json.dumps({"argv": sys.argv, "path": sys.path, "cwd": os.getcwd(), "env": dict(os.environ),
                          "umask": umask}).encode()
    # Signals are taken from the start: one that comes before the worker has forked is held and passed on
    # once it has (or, if the job is not served, acted on here), so Ctrl-C at any moment is one clean stop.
    held, child = [], []
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)

    def forward(signum, frame):
        if not child:
            held.append(signum)
            return
        try:
            sock.sendall(f"{signum}\n".encode())
        except OSError:
            pass

    previous = {sig: signal.signal(sig, forward) for sig in SIGNALS}
    try:
        try:
            sock.connect(path)
            socket.send_fds(sock, [_HEADER.pack(len(request))], [0, 1, 2])
            sock.sendall(request)
            first = _recv_line(sock)
        except (OSError, ValueError):
            first = None
        if not first or "pid" not in first:
            # refused (another environment, changed code), no worker, or it ended: run the job here, unless
            # a signal came meanwhile
            sock.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            previous = {}
            if signal.SIGINT in held:
                print(" ".join(["ridgerenorm", *sys.argv[1:2]]) + ": interrupted", file=sys.stderr)
                return 130
            for sig in held:
                signal.signal(sig, signal.SIG_DFL)
                os.kill(os.getpid(), sig)
            return None
        child.append(int(first["pid"]))
        for sig in held:
            forward(sig, None)
        try:
            done = _recv_line(sock)
        except (OSError, ValueError):
            done = None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
    if done is None:  # the worker itself ended mid-job (it kills the job first): the job failed
        print("ridgerenorm: the worker running this job ended before it", file=sys.stderr)
        return 1
    status = int(done["status"])
    if os.WIFSIGNALED(status):  # die the way the job died, so Snakemake and the shell see the same end
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
        return 128 + sig
    return os.waitstatus_to_exitcode(status)


# ------------------------------------------------------------------------------------------ the worker


def _own_files() -> dict:
    """(mtime, size) of the package files this worker has loaded: the worker stops serving if one changes."""
    out = {}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if (name == "ridgerenorm" or name.startswith("ridgerenorm.")) and path:
            try:
                st = os.stat(path)
            except OSError:
                st = None
            out[path] = (st.st_mtime_ns, st.st_size) if st else None
    return out


def _env_mismatch(job_env: dict, start_env: dict) -> str | None:
    keys = (set(job_env) | set(start_env)) - PER_JOB
    for key in sorted(keys):
        if job_env.get(key) != start_env.get(key):
            return key
    return None


def _threads(env: dict) -> int | None:
    for var in THREAD_VARS:
        try:
            return max(1, int(env[var]))
        except (KeyError, ValueError):
            continue
    return None


def _run_child(conn, fds, request: dict, listener, run) -> None:
    """In the forked child: become the job's process and run its command; never returns."""
    code = 1
    try:
        listener.close()
        conn.close()
        for target, fd in zip((0, 1, 2), fds):
            os.dup2(fd, target)
            os.close(fd)
        for sig in SIGNALS + (signal.SIGCHLD,):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        os.umask(int(request["umask"]))
        sys.argv = list(request["argv"])
        sys.path[:] = list(request["path"])
        import io
        import random
        import tempfile

        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False))
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), line_buffering=os.isatty(1),
                                      write_through=False)
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), errors="backslashreplace",
                                      line_buffering=True)
        tempfile.tempdir = None  # read TMPDIR again, the job's
        random.seed()
        import numpy as np

        np.random.seed()
        threads = _threads(request["env"])
        if threads is not None:
            from threadpoolctl import threadpool_limits

            threadpool_limits(limits=threads)
        try:
            code = run(sys.argv[1:])
        except SystemExit as e:  # argparse's usage errors and --help, as the process would exit
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            if isinstance(e.code, str):
                print(e.code, file=sys.stderr)
        except KeyboardInterrupt:
            code = 130
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
        import atexit

        atexit._run_exitfuncs()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(int(code) & 0xFF)


def _warm_matplotlib() -> None:
    """Draw one throwaway figure with math text to PNG and PDF: builds matplotlib's math-text grammar and loads
    its fonts (a second of a figure job's time), caches every child shares.  Nothing else is kept: the
    settings used are restored, and a figure job sets its own style."""
    try:
        import io as _io

        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.backends.backend_pdf import FigureCanvasPdf
        from matplotlib.figure import Figure
    except ImportError:
        return
    with matplotlib.rc_context({"pdf.fonttype": 42}):
        for canvas in (FigureCanvasAgg, FigureCanvasPdf):
            fig = Figure(figsize=(2, 2))
            canvas(fig)
            ax = fig.add_subplot()
            ax.set_xscale("log")
            ax.plot([1, 10, 100], [1, 2, 3], label=r"$E_g$")
            ax.set_title(r"$\sigma_\varepsilon = 0.5$, $\kappa^{-1}$, $P^{-\alpha}$, $\mathrm{Var}_X$")
            ax.legend()
            fig.savefig(_io.BytesIO(), format="png" if canvas is FigureCanvasAgg else "pdf")


def _read_request(conn) -> tuple[dict, list[int]]:
    conn.settimeout(10.0)
    head, fds, _, _ = socket.recv_fds(conn, _HEADER.size, 3)
    if len(head) != _HEADER.size or len(fds) != 3:
        for fd in fds:
            os.close(fd)
        raise ValueError("a request without its header and three descriptors")
    size = _HEADER.unpack(head)[0]
    body = b""
    while len(body) < size:
        chunk = conn.recv(min(1 << 20, size - len(body)))
        if not chunk:
            raise ValueError("a request cut short")
        body += chunk
    conn.settimeout(None)
    return json.loads(body), fds


def serve(folder: Path, parent: int, log_path: Path, run) -> int:
    """Listen on folder/socket until the process `parent` ends or a SIGTERM; one forked child per job, which
    calls run(arguments) (cli.main) and exits with what it returns; one line per job in log_path."""
    import selectors

    start_env = dict(os.environ)
    for name in PRELOAD:
        try:
            __import__(name)
        except ImportError:
            pass
    _warm_matplotlib()
    # what the libraries set in the environment as they loaded (netCDF4: HDF5_PLUGIN_PATH), which a fresh
    # process would hold too: set again in each child over the job's environment
    loaded_env = {k: v for k, v in os.environ.items() if start_env.get(k) != v}
    own = _own_files()
    folder = Path(folder)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(folder / "socket"))
    listener.listen(64)
    log = open(log_path, "a", buffering=1)
    jobs = {}  # child pid -> (connection, start time, command)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, "listener")
    # a child's end wakes the loop at once (SIGCHLD through the wakeup descriptor), so no job waits on a poll
    wake_r, wake_w = socket.socketpair()
    wake_r.setblocking(False)
    wake_w.setblocking(False)
    signal.set_wakeup_fd(wake_w.fileno(), warn_on_full_buffer=False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    sel.register(wake_r, selectors.EVENT_READ, "wake")
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the jobs through their own processes

    def stamp():
        return time.strftime("%H:%M:%S")

    def accept():
        nonlocal served, refused
        conn, _ = listener.accept()
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        if struct.unpack("3i", creds)[1] != os.getuid():
            conn.close()
            return
        try:
            request, fds = _read_request(conn)
        except (OSError, ValueError) as err:
            log.write(f"{stamp()} a request not read: {err}\n")
            conn.close()
            return
        what = " ".join(str(a) for a in request.get("argv", [])[1:2])
        why = _env_mismatch(request.get("env", {}), start_env)
        why = f"environment variable {why} differs from the worker's" if why else None
        if why is None and _own_files() != own:
            why = "the package's files changed since the worker started"
        if why is not None:
            for fd in fds:
                os.close(fd)
            log.write(f"{stamp()} {what}: run in its own process ({why})\n")
            refused += 1
            try:
                conn.sendall(b'{"refused": true}\n')
            except OSError:
                pass
            conn.close()
            return
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            signal.set_wakeup_fd(-1)
            wake_r.close()
            wake_w.close()
            log.close()
            for other, _, _ in jobs.values():
                other.close()
            sel.close()
            request["env"].update(loaded_env)
            _run_child(conn, fds, request, listener, run)
        for fd in fds:
            os.close(fd)
        try:
            conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
        except OSError:
            pass  # the job's process is gone: its end is seen below and the child killed
        jobs[pid] = (conn, time.monotonic(), what)
        sel.register(conn, selectors.EVENT_READ, pid)
        served += 1

    def reap():
        while jobs:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid not in jobs:
                continue
            conn, t0, what = jobs.pop(pid)
            try:
                sel.unregister(conn)
            except KeyError:
                pass  # its job's process ended first
            try:
                conn.sendall(json.dumps({"status": status}).encode() + b"\n")
            except OSError:
                pass
            conn.close()
            log.write(f"{stamp()} {what}: exit {os.waitstatus_to_exitcode(status)} in {time.monotonic() - t0:.2f} s\n")

    served = refused = 0
    (folder / "ready").write_text(str(os.getpid()))
    try:
        while not stopping and os.getppid() == parent:
            for key, _ in sel.select(timeout=1.0):
                if key.data == "listener":
                    accept()
                elif key.data == "wake":
                    try:
                        while wake_r.recv(4096):
                            pass
                    except BlockingIOError:
                        pass
                else:  # a job's process: a signal to pass on, or its end (killed): then kill the child too
                    try:
                        data = key.fileobj.recv(256)
                    except OSError:
                        data = b""
                    sigs = [int(s) for s in data.split()] if data else [signal.SIGKILL]
                    if not data:
                        sel.unregister(key.fileobj)
                    for sig in sigs:
                        try:
                            os.kill(key.data, sig)
                        except ProcessLookupError:
                            pass
            reap()
    finally:
        for pid in jobs:  # the run ended under its jobs: end them too
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        listener.close()
        log.write(f"{stamp()} worker ends: {served} jobs served, {refused} run in their own process\n")
        log.close()
    return 0


def main(run) -> None:
    """The worker process: FOLDER PARENT_PID LOG in sys.argv (what start() launches, through cli.serve_worker,
    which passes cli.main as `run`)."""
    folder, parent, log = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    try:
        serve(folder, parent, log, run)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def start(log_dir, timeout: float = 60.0) -> str | None:
    """Start a worker for this process (a local Snakemake run) and return its socket path, or None if it could
    not start (the run goes on without one).  The worker ends when this process does; it writes a line per job
    to log_dir/worker.log."""
    import subprocess
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="rr-worker-"))  # mode 0700: only this user can reach the socket
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS and k != ENV}
    log = Path(log_dir) / LOG_NAME
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as err:
        proc = subprocess.Popen([sys.executable, "-P", "-c", "from ridgerenorm.cli import serve_worker; serve_worker()",
                                 str(folder), str(os.getpid()), str(log.resolve())],
                                env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                start_new_session=True)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if (folder / "ready").is_file():
            _STARTED[str(folder / "socket")] = proc
            return str(folder / "socket")
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    else:
        proc.kill()
        proc.wait()
    shutil.rmtree(folder, ignore_errors=True)  # no worker: leave nothing behind
    return None


_STARTED = {}  # socket path -> the worker process this process started


def stop(path: str, timeout: float = 10.0) -> None:
    """End the worker listening at `path` and wait until it has written its last log line and removed its
    folder (and, when this process started it, reap it)."""
    folder = Path(path).parent
    try:
        pid = int((folder / "ready").read_text())
        os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError):
        return
    proc = _STARTED.pop(path, None)
    if proc is not None:
        try:
            proc.wait(timeout)
        except Exception:
            pass
    end = time.monotonic() + timeout
    while folder.exists() and time.monotonic() < end:
        time.sleep(0.02)
