"""One module per claim; importing this package registers every spec (``reasonsift.retest.spec.SPECS``)."""

from reasonsift.retest.claims import c1, c2, c3, c4, c5, c6, c7, c8, c9, limo, s1  # noqa: F401
