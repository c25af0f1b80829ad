"""The explorer's web app: a Starlette application served by uvicorn on 127.0.0.1 (the optional extra
[explore]; docs/explorer.md says why these).  The page and its script are static files of the package, with
plotly.js (basic, minified, vendored with its license) so nothing is fetched at run time.

    GET  /                       the page (?experiment=NAME opens it at a config experiment's parameters)
    GET  /api/setup              models, the scale's experiments and whether each was simulated
    GET  /api/experiment/NAME    an experiment's parameters
    POST /api/theory             curves, guides and the matching experiment's markers, or {"error": one line}
    POST /api/save               config YAML of the parameters and the config check's verdict
    POST /api/upload?name=FILE   a spectrum file (the raw bytes, size-limited), checked by the registry's file kind
"""

from __future__ import annotations

import asyncio
import socket
import sys
import traceback
import webbrowser
from importlib import resources
from pathlib import Path

from .core import MAX_UPLOAD_BYTES, Explorer, ExploreError, explorable_models, one_line

STATIC = Path(str(resources.files("ridgerenorm") / "explore" / "static"))


def _missing_extra(err: ImportError) -> SystemExit:
    return SystemExit(f"error: ridgerenorm explore needs the optional extra [explore] ({err.name} is not "
                      "installed): pip install -e '.[explore]'")


def create_app(explorer: Explorer):
    """The Starlette app over one Explorer."""
    try:
        from starlette.applications import Starlette
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import FileResponse, JSONResponse, Response
        from starlette.routing import Mount, Route
        from starlette.staticfiles import StaticFiles
    except ImportError as err:
        raise _missing_extra(err) from None

    # One computation at a time: a second request waits for the first instead of splitting the 2 cores.
    busy = asyncio.Lock()

    async def page(request):
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def setup(request):
        return JSONResponse({"models": explorable_models(), "experiments": explorer.experiments(),
                             "scale": explorer.scale, "results": str(explorer.results),
                             "config_error": explorer.config_error})

    async def experiment(request):
        try:
            return JSONResponse({"state": explorer.experiment_state(request.path_params["name"])})
        except ExploreError as err:
            return JSONResponse({"error": one_line(err)})

    async def _body(request):
        try:
            return await request.json()
        except ValueError:
            return None

    async def theory(request):
        state = await _body(request)
        async with busy:
            try:
                return JSONResponse(await run_in_threadpool(explorer.evaluate, state))
            except Exception as err:  # a bug, not a bad input: still one line in the page, the traceback here
                traceback.print_exc()
                return JSONResponse({"error": f"internal error ({type(err).__name__}): {one_line(err)}"})

    async def save(request):
        body = await _body(request) or {}
        return JSONResponse(await run_in_threadpool(explorer.save, body.get("state"), str(body.get("name", ""))))

    async def upload(request):
        data = bytearray()
        size = int(request.headers.get("content-length") or 0)
        if size <= MAX_UPLOAD_BYTES:  # a larger body is not read: its size is the answer
            async for chunk in request.stream():
                data += chunk
                if len(data) > MAX_UPLOAD_BYTES:
                    break
        size = max(size, len(data))
        return JSONResponse(await run_in_threadpool(explorer.upload, request.query_params.get("name", ""),
                                                    bytes(data), size))

    routes = [
        Route("/", page),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        Route("/api/setup", setup),
        Route("/api/experiment/{name}", experiment),
        Route("/api/theory", theory, methods=["POST"]),
        Route("/api/save", save, methods=["POST"]),
        Route("/api/upload", upload, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(routes=routes)


def serve(root: str, scale: str, port: int, open_browser: bool) -> None:
    """Serve the explorer on 127.0.0.1:port (0: a free port), print its address, open it in a browser."""
    try:
        import uvicorn
    except ImportError as err:
        raise _missing_extra(err) from None
    explorer = Explorer(root, scale)
    app = create_app(explorer)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen(128)  # connections made as soon as the address is printed wait for the server, not refused
    except OSError as err:
        sock.close()
        raise SystemExit(f"error: --port {port}: cannot listen on 127.0.0.1 ({err.strerror})") from None
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    note = f" ({explorer.config_error})" if explorer.config_error else f", experiments of scale {scale!r}"
    print(f"ridgerenorm explore: {url}{note}; Ctrl-C stops it", flush=True)
    if open_browser:
        webbrowser.open(url)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        print("", file=sys.stderr)
