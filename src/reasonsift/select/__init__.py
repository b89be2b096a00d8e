"""Selection: stages that keep or drop reasoning examples with a reason (``reasonsift select``)."""
