"""One module per claim; importing this package registers every spec (``reasonsift.retest.spec.SPECS``)."""

from reasonsift.retest.claims import c1  # noqa: F401
