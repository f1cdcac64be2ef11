"""Background jobs on huey: the queue factory, the job registry and the worker."""
