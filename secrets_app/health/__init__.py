"""Mount health: sweep a cluster with list calls, join per binding, diagnose.

Pure Python (no Django): the lead's tasks feed it ``BindingTarget`` rows and
store the ``BindingHealth`` results.
"""
