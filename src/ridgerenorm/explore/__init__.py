"""`ridgerenorm explore`: a local web page that redraws the theory of an experiment as its parameters move
(docs/explorer.md).  core.py computes (no web code); app.py serves the page (the optional extra [explore])."""
