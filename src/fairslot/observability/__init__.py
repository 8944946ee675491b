"""What operations can see: Prometheus metrics of the serving processes (``/metrics``).

``record.py`` is the only module that creates Prometheus instruments; callers use its small
functions. ``multiproc.py`` makes the figures of several uvicorn workers one;
``http.py`` measures requests and serves ``/metrics``; ``pool.py`` watches the database
pool; ``scrape.py`` and ``repository.py`` read the database's own figures at scrape time.
"""
