"""The grader behind grade.py, in layers; grade.py's docstring lists them."""
