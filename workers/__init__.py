"""Background workers: an rq queue on Redis, and the jobs it runs."""
