"""The real test cluster: the upstream Kubernetes API server, controllers and istiod, built from their Go modules.

``python -m tests.realcluster`` starts it (see README.md); ``RealCluster`` in ``cluster.py`` is the same from Python.
"""
